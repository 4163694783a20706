import { defineQueueFunction } from '../shared/functionSpecs.js';
import { RECOMPUTE_STEP } from '../shared/pipeline/queueSteps.js';
import { runQueueStep } from '../shared/queues/QueueStep.js';
import { getRuntime, withLogger } from '../shared/runtime/createRuntime.js';
import { invocationLogger } from '../shared/runtime/invocationLogger.js';

/** `cluster-recompute` → recompute one cluster; retryable failures throw (host retries, then poison). */
export const recomputeCluster = defineQueueFunction({
  name: 'recomputeCluster',
  queueName: RECOMPUTE_STEP.queue,
  handler: async (message, context) => {
    const logger = invocationLogger(context, { dequeueCount: context.triggerMetadata?.dequeueCount });
    await runQueueStep(RECOMPUTE_STEP, message, withLogger(getRuntime().deps, logger));
  },
});
