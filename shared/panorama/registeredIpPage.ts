import { XMLBuilder } from 'fast-xml-parser';
import { FailureKind, PanoramaError } from '../errors.js';
import { asArray, asNode, type PanResponse, textOf } from './parsePanResponse.js';

/** Entries per `show object registered-ip` page: the per-call cap of PAN-OS. */
export const REGISTERED_IP_PAGE_SIZE = 500;

/** One page of `show object registered-ip`. */
export interface RegisteredIpPage {
  /** IP → tags as listed (tags in device order). */
  entries: { ip: string; tags: string[] }[];
  /** `result/count` when present (informational: its meaning varies, count the entries instead). */
  count?: number;
}

const builder = new XMLBuilder({ processEntities: true, suppressEmptyNode: true });

/**
 * The `type=op` command for one page (PAN-OS 8.0+): `start-point` is 1-based.
 *
 * @example registeredIpPageCommand(501)
 * // <show><object><registered-ip><limit>500</limit><start-point>501</start-point><all/></registered-ip></object></show>
 */
export function registeredIpPageCommand(startPoint: number, limit = REGISTERED_IP_PAGE_SIZE): string {
  return builder.build({
    show: {
      object: { 'registered-ip': { limit: String(limit), 'start-point': String(startPoint), all: '' } },
    },
  }) as string;
}

/**
 * Reads a registered-ip page from a successful response. Raises a permanent {@link PanoramaError}
 * when the device answered with an `outfile` (PAN-OS before 8.0 with more than 500 entries) instead
 * of entries.
 */
export function parseRegisteredIpPage(response: PanResponse): RegisteredIpPage {
  const result = asNode(response.result);
  const msg = asNode(result?.msg);
  const outfile = msg?.outfile ?? asArray(msg?.line).find((l) => asNode(l)?.outfile !== undefined);
  if (outfile !== undefined) {
    throw new PanoramaError(
      'Panorama answered show registered-ip with an outfile instead of entries (PAN-OS before 8.0 cannot page); upgrade to 8.0 or later',
      { kind: FailureKind.permanent },
    );
  }
  const entries: { ip: string; tags: string[] }[] = [];
  for (const raw of asArray(result?.entry)) {
    const entry = asNode(raw);
    const ip = entry?.['@_ip'];
    if (typeof ip !== 'string' || ip === '') continue;
    const tags = asArray(asNode(entry?.tag)?.member)
      .map(textOf)
      .filter((t): t is string => t !== undefined && t !== '');
    entries.push({ ip, tags });
  }
  const countText = textOf(result?.count);
  const count = countText !== undefined && /^\d+$/.test(countText) ? Number(countText) : undefined;
  return { entries, ...(count === undefined ? {} : { count }) };
}
