import type { PipelineQueues } from './PipelineQueues.js';

/**
 * A step's request to see its work again later: the message it handled completes, and `message`
 * (the wire body) is sent to the same queue, invisible for `seconds`. This is how a step waits
 * (a busy cluster, a generation not committed yet) without failing an attempt.
 */
export interface Requeue {
  seconds: number;
  message: unknown;
}

/** What every queue step returns besides its own outcome fields. */
export interface StepOutcome {
  requeueAfter?: Requeue;
}

/**
 * A pipeline step bound to its queue: how a message body is read (an `InputError` marks it
 * unreadable) and what runs on it. `functions/`, the local host, `drainDeltaQueue` and the test
 * worlds all run steps through {@link runQueueStep}, so they treat outcomes alike.
 */
export interface QueueStep<M, O extends StepOutcome, D extends { queues: PipelineQueues }> {
  queue: string;
  parse: (body: unknown) => M;
  run: (message: M, deps: D) => Promise<O>;
}

/**
 * Runs one message body through `step`. A returned outcome completes the message (after sending
 * its `requeueAfter`, if any); a throw is left to the queue's rule, `messageDisposition` in
 * `shared/queues/messageDisposition.ts` (retry, then poison).
 */
export async function runQueueStep<M, O extends StepOutcome, D extends { queues: PipelineQueues }>(
  step: QueueStep<M, O, D>,
  body: unknown,
  deps: D,
): Promise<O> {
  const outcome = await step.run(step.parse(body), deps);
  const requeue = outcome.requeueAfter;
  if (requeue) await deps.queues.send(step.queue, requeue.message, { delaySeconds: requeue.seconds });
  return outcome;
}
