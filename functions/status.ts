import { defineHttpFunction } from '../shared/functionSpecs.js';
import { getRuntime } from '../shared/runtime/createRuntime.js';
import { answerStatusRequest } from '../shared/statusPage/answerStatusRequest.js';

/**
 * `GET /api/status` (function key): per cluster and target status, queue and poison depths, as JSON,
 * or the status page for a browser; `POST` runs the page's DAG tester.
 */
export const status = defineHttpFunction({
  name: 'status',
  route: 'status',
  methods: ['GET', 'POST'],
  authLevel: 'function',
  handler: (request, context) =>
    answerStatusRequest(request, { getRuntime, logError: (message) => context.error(message) }),
});
