/** Queue carrying one message per cluster to recompute. */
export const RECOMPUTE_QUEUE = 'cluster-recompute';
/** Queue carrying tag deltas per cluster and target. */
export const DELTA_QUEUE = 'tag-deltas';
/** Suffix the Functions host appends to a queue's name for messages that failed `maxDequeueCount` times. */
export const POISON_SUFFIX = '-poison';

/** The poison queue of `queueName`. */
export function poisonQueueName(queueName: string): string {
  return `${queueName}${POISON_SUFFIX}`;
}
