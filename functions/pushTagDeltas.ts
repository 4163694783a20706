import { defineQueueFunction } from '../shared/functionSpecs.js';
import { PUSH_STEP } from '../shared/pipeline/queueSteps.js';
import { runQueueStep } from '../shared/queues/QueueStep.js';
import { getRuntime, withLogger } from '../shared/runtime/createRuntime.js';
import { invocationLogger } from '../shared/runtime/invocationLogger.js';

/** `tag-deltas` → push one delta message to its target, level-triggered. */
export const pushTagDeltas = defineQueueFunction({
  name: 'pushTagDeltas',
  queueName: PUSH_STEP.queue,
  handler: async (message, context) => {
    const logger = invocationLogger(context, { dequeueCount: context.triggerMetadata?.dequeueCount });
    await runQueueStep(PUSH_STEP, message, withLogger(getRuntime().deps, logger));
  },
});
