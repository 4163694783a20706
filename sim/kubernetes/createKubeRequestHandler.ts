import type http from 'node:http';
import { tokensEqual } from '../tokensEqual.js';
import { applyKubeFault, type KubeExchange } from './applyKubeFault.js';
import { KubeHttpError } from './KubeHttpError.js';
import type { KubernetesSimulatorState } from './KubernetesSimulatorState.js';
import { kubeStatusBody } from './kubeStatusBody.js';
import { routeKubeRequest } from './routeKubeRequest.js';
import { sendKubeJson } from './sendKubeJson.js';
import { serveKubeWrite } from './serveKubeWrite.js';
import type { RecordedKubeRequest } from './startKubernetesSimulator.js';

const VERSION = { major: '1', minor: '33', gitVersion: 'v1.33.2', platform: 'linux/amd64' };

/**
 * The simulator's request listener: records the request, answers `/version` without
 * authentication, checks the bearer token (401 `Status`), then applies a queued fault or routes it.
 */
export function createKubeRequestHandler(state: KubernetesSimulatorState): http.RequestListener {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const record: RecordedKubeRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
    };
    state.requests.push(record);
    const exchange: KubeExchange = {
      req,
      res,
      send: (status, body, headers) => sendKubeJson(res, record, status, body, headers),
      serve: () => serve(state, record, url, exchange),
    };
    if (url.pathname === '/version') return exchange.send(200, VERSION);
    if (!presentsToken(req.headers.authorization, state.token)) {
      return exchange.send(401, kubeStatusBody(new KubeHttpError(401, 'Unauthorized', 'Unauthorized')));
    }
    const hasContinue = url.searchParams.has('continue');
    const queued = state.faults.take((f) => !f.onlyWithContinue || hasContinue);
    if (!queued) return exchange.serve();
    applyKubeFault(state, queued.fault, exchange);
  };
}

function presentsToken(authorization: string | undefined, token: string): boolean {
  const auth = authorization ?? '';
  const presented = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length).trim() : '';
  return presented !== '' && tokensEqual(presented, token);
}

function serve(
  state: KubernetesSimulatorState,
  record: RecordedKubeRequest,
  url: URL,
  exchange: KubeExchange,
): void {
  if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(record.method)) {
    serveKubeWrite(state, record.method, url, exchange);
    return;
  }
  try {
    exchange.send(200, routeKubeRequest(state, record.method, url.pathname, url.searchParams));
  } catch (err) {
    if (err instanceof KubeHttpError) exchange.send(err.code, kubeStatusBody(err));
    else {
      const internal = new KubeHttpError(500, 'InternalError', `Internal error occurred: ${String(err)}`);
      exchange.send(500, kubeStatusBody(internal));
    }
  }
}
