import { decodeMessage } from './PipelineQueues.js';

/** The fields that say what a pipeline message is about, for log lines (absent when unknown). */
export interface MessageFields {
  cluster?: string;
  target?: string;
  generation?: number;
  /** The firewall's hostname and device group, when the message carries them (`tag-deltas`). */
  hostname?: string;
  deviceGroup?: string;
}

/**
 * `cluster`, `target`, `generation`, `hostname` and `deviceGroup` of a queue message's text (base64 JSON), for logging a
 * message that failed or is being poisoned; `{}` when the text cannot be read. Never throws.
 */
export function messageFields(messageText: string): MessageFields {
  let body: unknown;
  try {
    body = decodeMessage(messageText);
  } catch {
    return {};
  }
  if (typeof body !== 'object' || body === null) return {};
  const { cluster, target, generation, hostname, deviceGroup } = body as Record<string, unknown>;
  return {
    ...(typeof cluster === 'string' ? { cluster: cluster.slice(0, 100) } : {}),
    ...(typeof target === 'string' ? { target: target.slice(0, 100) } : {}),
    ...(typeof generation === 'number' ? { generation } : {}),
    ...(typeof hostname === 'string' ? { hostname: hostname.slice(0, 100) } : {}),
    ...(typeof deviceGroup === 'string' ? { deviceGroup: deviceGroup.slice(0, 100) } : {}),
  };
}
