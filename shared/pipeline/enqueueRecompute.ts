import type { PipelineQueues } from '../queues/PipelineQueues.js';
import { RECOMPUTE_QUEUE } from '../queues/queueNames.js';
import type { RecomputeMessage } from './messages.js';

/** Enqueues a recompute request for one cluster, stamped with the request time. */
export async function enqueueRecompute(
  queues: PipelineQueues,
  request: { cluster: string; reason: string; deleted?: boolean; eventId?: string; eventTime?: string },
  now: Date,
): Promise<RecomputeMessage> {
  const message: RecomputeMessage = {
    v: 1,
    cluster: request.cluster,
    // The reason may quote event subjects (resource names): cut to the message schema's 200 characters.
    reason: request.reason.slice(0, 200),
    requestedAt: now.toISOString(),
    ...(request.deleted ? { deleted: true } : {}),
    ...(request.eventId ? { eventId: request.eventId.slice(0, 200) } : {}),
    ...(request.eventTime ? { eventTime: request.eventTime } : {}),
  };
  await queues.send(RECOMPUTE_QUEUE, message);
  return message;
}
