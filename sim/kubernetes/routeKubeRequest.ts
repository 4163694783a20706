import { KubeHttpError } from './KubeHttpError.js';
import type { KubernetesSimulatorState } from './KubernetesSimulatorState.js';
import { kubeForbiddenError } from './kubeForbiddenError.js';
import { listServices } from './listServices.js';

const NAMESPACED_SERVICES = /^\/api\/v1\/namespaces\/([^/]+)\/services(?:\/([^/]+))?$/;

/**
 * Answers an authenticated request: `GET /api/v1/services`, `/api/v1/namespaces/{ns}/services` and
 * `…/services/{name}` (403 in forbidden mode). Throws {@link KubeHttpError} for everything else.
 * Writes (POST, PUT, PATCH, DELETE) are answered by `routeKubeWrite` in `sim/kubernetes/routeKubeWrite.ts`.
 */
export function routeKubeRequest(
  state: KubernetesSimulatorState,
  method: string,
  path: string,
  query: URLSearchParams,
): Record<string, unknown> {
  if (method !== 'GET') {
    throw new KubeHttpError(
      405,
      'MethodNotAllowed',
      `the server does not allow this method on the requested resource`,
    );
  }
  if (path === '/api/v1/services') {
    if (state.forbidden) throw kubeForbiddenError(state.forbidden, 'list');
    return listServices(state, query, undefined);
  }
  const namespaced = NAMESPACED_SERVICES.exec(path);
  if (namespaced) {
    const namespace = decodeURIComponent(namespaced[1] ?? '');
    const name = namespaced[2] === undefined ? undefined : decodeURIComponent(namespaced[2]);
    if (state.forbidden) throw kubeForbiddenError(state.forbidden, name ? 'get' : 'list', namespace, name);
    if (name === undefined) return listServices(state, query, namespace);
    return getService(state, namespace, name);
  }
  throw new KubeHttpError(404, 'NotFound', 'the server could not find the requested resource', {});
}

function getService(
  state: KubernetesSimulatorState,
  namespace: string,
  name: string,
): Record<string, unknown> {
  const found = state.services.find(namespace, name);
  if (!found) {
    throw new KubeHttpError(404, 'NotFound', `services "${name}" not found`, { name, kind: 'services' });
  }
  return { kind: 'Service', apiVersion: 'v1', ...found };
}
