import { sleep } from '../backoff.js';
import { describeError, InputError } from '../errors.js';
import { messageDisposition } from '../queues/messageDisposition.js';
import { messageFields } from '../queues/messageFields.js';
import { decodeMessage } from '../queues/PipelineQueues.js';
import { runQueueStep } from '../queues/QueueStep.js';
import { DELTA_QUEUE, poisonQueueName } from '../queues/queueNames.js';
import type { PipelineDeps } from './PipelineDeps.js';
import type { PushOutcome } from './pushTagDeltas.js';
import { PUSH_STEP } from './queueSteps.js';

/** Result of draining the delta queue in-process. */
export interface DrainResult {
  pushed: PushOutcome[];
  /** Attempts that failed and were left for a retry. */
  retried: number;
  /** Messages moved to the poison queue after `maxDequeueCount` attempts (or undecodable). */
  poisoned: number;
  /** Failed attempts and poisoned messages per `cluster/target` (`?` where the message could not be read). */
  failuresByTarget: Record<string, { failedAttempts: number; poisoned: number; lastError: string }>;
  /** Messages still queued when the drain stopped (time budget). */
  leftQueued: number;
}

/**
 * Drains `tag-deltas` in this process with the queue host's rules: success deletes the message (a
 * deferred push comes back through its `requeueAfter`), a
 * failure leaves it for a retry (after `retryDelaySeconds`), and the attempt that reaches
 * `maxDequeueCount` moves it to `tag-deltas-poison` (a malformed message at once). Used by `reconcile` outside the Functions host.
 */
export async function drainDeltaQueue(
  deps: PipelineDeps,
  options: { maxDequeueCount: number; retryDelaySeconds?: number; budgetMs?: number },
): Promise<DrainResult> {
  const result: DrainResult = { pushed: [], retried: 0, poisoned: 0, failuresByTarget: {}, leftQueued: 0 };
  const deadline = Date.now() + (options.budgetMs ?? 120_000);
  const retryDelay = options.retryDelaySeconds ?? 1;
  const poison = poisonQueueName(DELTA_QUEUE);
  while (Date.now() < deadline) {
    const batch = await deps.queues.receive(DELTA_QUEUE, 16, 60);
    if (batch.length === 0) {
      if ((await deps.queues.depth(DELTA_QUEUE)) === 0) return result;
      await sleep(500);
      continue;
    }
    for (const m of batch) {
      try {
        const outcome = await runQueueStep(PUSH_STEP, decodeMessage(m.messageText), deps);
        result.pushed.push(outcome);
        await deps.queues.delete(DELTA_QUEUE, m);
      } catch (err) {
        const unreadable = err instanceof InputError;
        const poisoned =
          messageDisposition(false, m.dequeueCount, options.maxDequeueCount, { unreadable }) === 'poison';
        countFailure(result, m.messageText, poisoned, err);
        if (poisoned) {
          await deps.queues.sendText(poison, m.messageText);
          await deps.queues.delete(DELTA_QUEUE, m);
          result.poisoned++;
          deps.logger.error('delta message moved to the poison queue; "replay-poison" brings it back', {
            ...messageFields(m.messageText),
            dequeueCount: m.dequeueCount,
            error: describeError(err),
          });
        } else {
          await deps.queues.release(DELTA_QUEUE, m, retryDelay);
          result.retried++;
        }
      }
    }
  }
  result.leftQueued = await deps.queues.depth(DELTA_QUEUE);
  return result;
}

/** Counts a failed attempt (and a poisoning) against the message's `cluster/target`. */
function countFailure(result: DrainResult, messageText: string, poisoned: boolean, err: unknown): void {
  const { cluster = '?', target = '?' } = messageFields(messageText);
  const key = `${cluster}/${target}`;
  const entry = result.failuresByTarget[key] ?? { failedAttempts: 0, poisoned: 0, lastError: '' };
  result.failuresByTarget[key] = entry;
  entry.failedAttempts++;
  if (poisoned) entry.poisoned++;
  entry.lastError = describeError(err);
}
