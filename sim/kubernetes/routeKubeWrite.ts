import type { KubeService } from '../../shared/kubernetes/KubeService.js';
import { admitServiceWrite } from './admitServiceWrite.js';
import { applyMergePatch } from './applyMergePatch.js';
import { KubeHttpError } from './KubeHttpError.js';
import type { KubernetesSimulatorState } from './KubernetesSimulatorState.js';
import { kubeForbiddenError } from './kubeForbiddenError.js';
import type { KubeRequestBody } from './readKubeRequestBody.js';

/** A write's answer: HTTP status and body. */
export interface KubeWriteAnswer {
  status: number;
  body: Record<string, unknown>;
}

const SERVICES = /^\/api\/v1\/namespaces\/([^/]+)\/services(?:\/([^/]+))?$/;
const MERGE_TYPES = ['application/merge-patch+json', 'application/strategic-merge-patch+json'];
const VERBS: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

const notFound = (name: string) =>
  new KubeHttpError(404, 'NotFound', `services "${name}" not found`, { name, kind: 'services' });
const asService = (s: KubeService): Record<string, unknown> => ({ kind: 'Service', apiVersion: 'v1', ...s });

function parseObject(body: KubeRequestBody, patch: boolean): Record<string, unknown> {
  const accepted = patch ? MERGE_TYPES : ['application/json', ''];
  if (!accepted.includes(body.contentType)) {
    throw new KubeHttpError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - the simulator accepts ${accepted.filter(Boolean).join(', ')} here, got ${JSON.stringify(body.contentType)}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.text);
  } catch (err) {
    throw new KubeHttpError(
      400,
      'BadRequest',
      `the object provided is unrecognized (must be of type Service): ${(err as Error).message}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new KubeHttpError(
      400,
      'BadRequest',
      'the object provided is unrecognized (must be of type Service): not a JSON object',
    );
  const kind = (parsed as { kind?: unknown }).kind;
  if (!patch && kind !== undefined && kind !== 'Service')
    throw new KubeHttpError(
      400,
      'BadRequest',
      `the object provided is unrecognized (must be of type Service): kind ${JSON.stringify(kind)}`,
    );
  return parsed as Record<string, unknown>;
}

function checkTarget(obj: Record<string, unknown>, namespace: string, name: string | undefined): void {
  const metadata = (obj.metadata ?? {}) as Record<string, unknown>;
  if (metadata.namespace !== undefined && metadata.namespace !== namespace)
    throw new KubeHttpError(
      400,
      'BadRequest',
      'the namespace of the provided object does not match the namespace sent on the request',
    );
  if (name !== undefined && metadata.name !== undefined && metadata.name !== name)
    throw new KubeHttpError(
      400,
      'BadRequest',
      `the name of the object (${String(metadata.name)}) does not match the name on the URL (${name})`,
    );
}

function checkPrecondition(obj: Record<string, unknown>, current: KubeService, name: string): void {
  const rv = ((obj.metadata ?? {}) as Record<string, unknown>).resourceVersion;
  if (rv !== undefined && rv !== current.metadata?.resourceVersion)
    throw new KubeHttpError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on services "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      { name, kind: 'services' },
    );
}

function createService(
  state: KubernetesSimulatorState,
  namespace: string,
  body: KubeRequestBody,
): KubeWriteAnswer {
  const obj = parseObject(body, false);
  checkTarget(obj, namespace, undefined);
  const metadata = (obj.metadata ?? {}) as Record<string, unknown>;
  if (metadata.resourceVersion !== undefined)
    throw new KubeHttpError(
      500,
      'InternalError',
      'Internal error occurred: resourceVersion should not be set on objects to be created',
    );
  const name = typeof metadata.name === 'string' ? metadata.name : '';
  if (name && state.services.find(namespace, name))
    throw new KubeHttpError(409, 'AlreadyExists', `services "${name}" already exists`, {
      name,
      kind: 'services',
    });
  const admitted = admitServiceWrite(
    { ...obj, metadata: { ...metadata, namespace } },
    undefined,
    state.services,
  );
  return { status: 201, body: asService(state.services.put(admitted)) };
}

function updateService(
  state: KubernetesSimulatorState,
  namespace: string,
  name: string,
  next: (current: KubeService) => Record<string, unknown>,
): KubeWriteAnswer {
  const current = state.services.find(namespace, name);
  if (!current) throw notFound(name);
  const obj = next(structuredClone(current));
  checkTarget(obj, namespace, name);
  checkPrecondition(obj, current, name);
  const metadata = { ...((obj.metadata ?? {}) as Record<string, unknown>), namespace, name };
  const admitted = admitServiceWrite({ ...obj, metadata }, current, state.services);
  return { status: 200, body: asService(state.services.put(admitted)) };
}

function deleteService(state: KubernetesSimulatorState, namespace: string, name: string): KubeWriteAnswer {
  const current = state.services.find(namespace, name);
  if (!current || !state.services.delete(namespace, name)) throw notFound(name);
  return { status: 200, body: asService(structuredClone(current)) };
}

/**
 * Answers an authenticated write on `/api/v1/namespaces/{ns}/services[/{name}]` as the API server
 * does: POST creates (201; 409 `AlreadyExists`), PUT replaces (404 `NotFound`; 409 `Conflict` on a
 * stale `metadata.resourceVersion`), PATCH applies a merge patch (`application/merge-patch+json`,
 * or strategic merge, which for a Service's labels and annotations is the same), DELETE removes and
 * returns the Service. Every write bumps the resourceVersion; 403 in forbidden mode.
 */
export function routeKubeWrite(
  state: KubernetesSimulatorState,
  method: string,
  path: string,
  body: KubeRequestBody,
): KubeWriteAnswer {
  const match = SERVICES.exec(path);
  const verb = VERBS[method];
  if (!match || !verb || (method === 'POST') !== (match[2] === undefined)) {
    if (!match)
      throw new KubeHttpError(404, 'NotFound', 'the server could not find the requested resource', {});
    throw new KubeHttpError(
      405,
      'MethodNotAllowed',
      'the server does not allow this method on the requested resource',
    );
  }
  const namespace = decodeURIComponent(match[1] ?? '');
  const name = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
  if (state.forbidden) throw kubeForbiddenError(state.forbidden, verb, namespace, name);
  if (name === undefined) return createService(state, namespace, body);
  if (method === 'DELETE') return deleteService(state, namespace, name);
  if (method === 'PUT') return updateService(state, namespace, name, () => parseObject(body, false));
  const patch = parseObject(body, true);
  return updateService(
    state,
    namespace,
    name,
    (current) => applyMergePatch(current, patch) as Record<string, unknown>,
  );
}
