import type { Logger } from '../logger.js';
import type { PipelineQueues } from '../queues/PipelineQueues.js';
import { DELTA_QUEUE, poisonQueueName, RECOMPUTE_QUEUE } from '../queues/queueNames.js';

/** Result of replaying one poison queue. */
export interface ReplayResult {
  queue: string;
  poisonQueue: string;
  /** Messages found in the poison queue (approximate before a dry run). */
  found: number;
  /** Messages moved back (0 with `dryRun`). */
  moved: number;
}

/**
 * Moves every message of `tag-deltas-poison` and `cluster-recompute-poison` back to its queue,
 * byte for byte. Safe at any time and in any order: delta pushes are level-triggered (invariant 1)
 * and recomputes are idempotent. With `dryRun`, only counts.
 */
export async function replayPoison(
  queues: PipelineQueues,
  options: { dryRun?: boolean; logger: Logger },
): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  for (const queue of [RECOMPUTE_QUEUE, DELTA_QUEUE]) {
    const poisonQueue = poisonQueueName(queue);
    const found = await queues.depth(poisonQueue);
    let moved = 0;
    if (!options.dryRun && found > 0) {
      const budget = found + 1000;
      while (moved < budget) {
        const batch = await queues.receive(poisonQueue, 32, 120);
        if (batch.length === 0) break;
        for (const m of batch) {
          await queues.sendText(queue, m.messageText);
          await queues.delete(poisonQueue, m);
          moved++;
        }
      }
    }
    options.logger.info(
      options.dryRun ? 'replay (dry run): poison messages found' : 'replay: poison messages moved back',
      {
        queue,
        poisonQueue,
        found,
        moved,
      },
    );
    results.push({ queue, poisonQueue, found: Math.max(found, moved), moved });
  }
  return results;
}
