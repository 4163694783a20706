import { defineEventGridFunction } from '../shared/functionSpecs.js';
import { handleResourceEvent } from '../shared/pipeline/handleResourceEvent.js';
import { getRuntime, withLogger } from '../shared/runtime/createRuntime.js';
import { invocationLogger } from '../shared/runtime/invocationLogger.js';

/** ARM resource events (Event Grid schema) → a recompute of the affected cluster. */
export const onResourceEvent = defineEventGridFunction({
  name: 'onResourceEvent',
  handler: async (event, context) => {
    await handleResourceEvent(event, withLogger(getRuntime().deps, invocationLogger(context)));
  },
});
