import { defineQueueFunction } from '../shared/functionSpecs.js';
import { parseRecomputeMessage } from '../shared/pipeline/messages.js';
import { recomputeCluster as recompute } from '../shared/pipeline/recomputeCluster.js';
import { RECOMPUTE_QUEUE } from '../shared/queues/queueNames.js';
import { getRuntime, withLogger } from '../shared/runtime/createRuntime.js';
import { invocationLogger } from '../shared/runtime/invocationLogger.js';

/** `cluster-recompute` → recompute one cluster; retryable failures throw (host retries, then poison). */
export const recomputeCluster = defineQueueFunction({
  name: 'recomputeCluster',
  queueName: RECOMPUTE_QUEUE,
  handler: async (message, context) => {
    const logger = invocationLogger(context, { dequeueCount: context.triggerMetadata?.dequeueCount });
    await recompute(parseRecomputeMessage(message), withLogger(getRuntime().deps, logger));
  },
});
