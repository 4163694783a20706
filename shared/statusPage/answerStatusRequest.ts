import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { ConfigError } from '../errors.js';
import type { PipelineDeps } from '../pipeline/PipelineDeps.js';
import { readStatus } from '../pipeline/readStatus.js';
import { statusAttention } from '../pipeline/statusAttention.js';
import type { Runtime } from '../runtime/createRuntime.js';
import { STATUS_PAGE_HEADERS } from './pageLayout.js';
import { prefersHtml } from './prefersHtml.js';
import { readDagForm } from './readDagForm.js';
import { renderConfigErrorPage, renderStatusPage, type StatusPageView } from './renderStatusPage.js';
import { type DagOutcome, testDagMatch } from './testDagMatch.js';

/** What {@link answerStatusRequest} uses besides the request. */
export interface StatusRequestOptions {
  /** The process-wide runtime (`shared/runtime/createRuntime.ts`); throws a `ConfigError` when the settings are invalid. */
  getRuntime: () => Runtime;
  /** Where an invalid configuration is reported (the invocation's log). */
  logError: (message: string) => void;
}

const JSON_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', vary: 'Accept' };

function page(status: number, body: string): HttpResponseInit {
  return { status, headers: { ...STATUS_PAGE_HEADERS }, body };
}

function json(status: number, jsonBody: unknown): HttpResponseInit {
  return { status, headers: JSON_HEADERS, jsonBody };
}

/** The status report, the HA peers and what needs attention, read now. */
async function readStatusView(deps: PipelineDeps): Promise<StatusPageView> {
  const { report, panorama } = await readStatus(deps);
  return { report, ...(panorama ? { panorama } : {}), attention: statusAttention(report, panorama) };
}

/** The runtime, or the `ConfigError` that prevents building it (any other failure throws). */
function runtimeOrConfigError(getRuntime: () => Runtime): Runtime | ConfigError {
  try {
    return getRuntime();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
}

/** A POST of the DAG tester: the match's outcome, or why the form was refused. */
async function dagOutcome(
  request: HttpRequest,
  deps: PipelineDeps,
): Promise<{ status: number; outcome: DagOutcome }> {
  const form = readDagForm(request.headers.get('content-type'), await request.text());
  if (!form.ok) return { status: form.status, outcome: { input: '', error: form.message } };
  const outcome = await testDagMatch(form.expression, deps);
  return { status: 'report' in outcome ? 200 : 400, outcome };
}

function dagJson(status: number, outcome: DagOutcome): HttpResponseInit {
  if ('report' in outcome) return json(status, outcome.report);
  return json(status, {
    error: outcome.error,
    ...(outcome.position === undefined ? {} : { position: outcome.position }),
  });
}

/**
 * Answers `/api/status`. `GET`: the status report as JSON (the API's default), or the HTML page
 * when `Accept` prefers `text/html` (`shared/statusPage/prefersHtml.ts`). `POST` (the page's DAG
 * tester, a form with the field `dag`): the page with the matches, or the DAG report as JSON; 400
 * with the position for a bad match. An invalid configuration: 500 with its problems (JSON
 * `{ error, problems }` or the page), never a bare failure.
 */
export async function answerStatusRequest(
  request: HttpRequest,
  options: StatusRequestOptions,
): Promise<HttpResponseInit> {
  const wantsHtml = prefersHtml(request.headers.get('accept'));
  const runtime = runtimeOrConfigError(options.getRuntime);
  if (runtime instanceof ConfigError) {
    options.logError(
      `status: the configuration is invalid (${runtime.problems.length} problems): ${runtime.problems.join('; ')}`,
    );
    return wantsHtml
      ? page(500, renderConfigErrorPage(runtime.problems))
      : json(500, { error: 'Invalid configuration', problems: runtime.problems });
  }
  const { deps } = runtime;
  const dag = request.method === 'POST' ? await dagOutcome(request, deps) : undefined;
  if (!wantsHtml) {
    if (dag) return dagJson(dag.status, dag.outcome);
    const { report, panorama } = await readStatusView(deps);
    return json(200, { ...report, ...(panorama ? { panorama } : {}) });
  }
  const view = await readStatusView(deps);
  return page(dag?.status ?? 200, renderStatusPage({ ...view, ...(dag ? { dag: dag.outcome } : {}) }));
}
