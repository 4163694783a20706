/** What happens to a queue message after its handler ran. */
export type MessageDisposition = 'complete' | 'retry' | 'poison';

/**
 * The one rule for a queue message, as the Azure Functions host applies it (and so the local host
 * and `drainDeltaQueue`): a handler that returned completes the message; one that threw leaves it
 * for another attempt after `visibilityTimeout`, and the attempt that reaches `maxDequeueCount` moves
 * it to `<queue>-poison`. Whatever the error's kind: a step that wants a message completed after a
 * failure (recorded in `status`) returns instead of throwing, and one that wants its work again later
 * (a busy cluster, a generation not committed yet) returns `requeueAfter`, which `runQueueStep` in
 * `shared/queues/QueueStep.ts` sends before the message completes. A message that cannot even be read
 * (not base64, not a valid message) goes to the poison queue at once where the host can tell.
 */
export function messageDisposition(
  handled: boolean,
  dequeueCount: number,
  maxDequeueCount: number,
  options: { unreadable?: boolean } = {},
): MessageDisposition {
  if (handled) return 'complete';
  if (options.unreadable) return 'poison';
  return dequeueCount >= maxDequeueCount ? 'poison' : 'retry';
}
