import { defineQueueFunction } from '../shared/functionSpecs.js';
import { parseDeltaMessage } from '../shared/pipeline/messages.js';
import { pushTagDeltas as push } from '../shared/pipeline/pushTagDeltas.js';
import { DELTA_QUEUE } from '../shared/queues/queueNames.js';
import { getRuntime, withLogger } from '../shared/runtime/createRuntime.js';
import { invocationLogger } from '../shared/runtime/invocationLogger.js';

/** `tag-deltas` → push one delta message to its target, level-triggered. */
export const pushTagDeltas = defineQueueFunction({
  name: 'pushTagDeltas',
  queueName: DELTA_QUEUE,
  handler: async (message, context) => {
    const logger = invocationLogger(context, { dequeueCount: context.triggerMetadata?.dequeueCount });
    await push(parseDeltaMessage(message), withLogger(getRuntime().deps, logger));
  },
});
