import { defineHttpFunction } from '../shared/functionSpecs.js';
import { replayPoison as replay } from '../shared/pipeline/replayPoison.js';
import { getRuntime } from '../shared/runtime/createRuntime.js';
import { invocationLogger } from '../shared/runtime/invocationLogger.js';

/** `POST /api/replay-poison[?dryRun=true]` (function key): moves poison messages back to their queues. */
export const replayPoison = defineHttpFunction({
  name: 'replayPoison',
  route: 'replay-poison',
  methods: ['POST'],
  authLevel: 'function',
  handler: async (request, context) => {
    const dryRun = ['1', 'true'].includes(request.query.get('dryRun') ?? '');
    const results = await replay(getRuntime().deps.queues, { dryRun, logger: invocationLogger(context) });
    return { status: 200, jsonBody: { dryRun, results } };
  },
});
