import type { KubeService } from '../../shared/kubernetes/KubeService.js';
import { type ContinuePosition, decodeContinueToken, encodeContinueToken } from './continueToken.js';
import { KubeHttpError } from './KubeHttpError.js';
import type { KubernetesSimulatorState } from './KubernetesSimulatorState.js';
import { type ListSnapshot, lowerBound } from './ListSnapshots.js';
import { serviceKey } from './serviceKey.js';

const EXPIRED_MESSAGE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

/**
 * Answers a `ServiceList` request (all namespaces, or one): a page of at most `limit` Services of a
 * consistent snapshot, resumed by `continue`; an expired continue token answers 410 `Expired`.
 */
export function listServices(
  state: KubernetesSimulatorState,
  query: URLSearchParams,
  namespace: string | undefined,
): Record<string, unknown> {
  rejectUnsupportedParameters(query);
  const limit = parseLimit(query);
  const cont = query.get('continue');
  const { snap, start } = cont ? resumeSnapshot(state, decodeContinueToken(cont)) : newSnapshot(state);
  return servicePage(state, snap, { start, limit, namespace });
}

function rejectUnsupportedParameters(query: URLSearchParams): void {
  for (const unsupported of ['watch', 'labelSelector', 'fieldSelector']) {
    const v = query.get(unsupported);
    if (v && v !== 'false') {
      throw new KubeHttpError(400, 'BadRequest', `${unsupported} is not supported by the simulator`);
    }
  }
}

function parseLimit(query: URLSearchParams): number {
  const rawLimit = query.get('limit');
  const limit = rawLimit === null || rawLimit === '' ? 0 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 0) {
    throw new KubeHttpError(400, 'BadRequest', `invalid limit: "${rawLimit}"`);
  }
  return limit;
}

function newSnapshot(state: KubernetesSimulatorState): { snap: ListSnapshot; start: string } {
  return {
    snap: state.snapshots.take(state.services.resourceVersion, () => state.services.sorted()),
    start: '',
  };
}

function resumeSnapshot(
  state: KubernetesSimulatorState,
  position: ContinuePosition,
): { snap: ListSnapshot; start: string } {
  const found = state.snapshots.find(position.rv);
  if (!found) throw expiredContinueError(state, position);
  return { snap: found, start: position.start };
}

/** 410 `Expired`, with a fresh continue token (on a new snapshot) when Services remain after `position`. */
function expiredContinueError(state: KubernetesSimulatorState, position: ContinuePosition): KubeHttpError {
  const { snap: fresh } = newSnapshot(state);
  const remaining = lowerBound(fresh.keys, position.start) < fresh.keys.length;
  const lastKey = position.start.endsWith('\u0000') ? position.start.slice(0, -1) : position.start;
  return new KubeHttpError(
    410,
    'Expired',
    EXPIRED_MESSAGE,
    undefined,
    remaining ? { continue: encodeContinueToken(fresh.rv, lastKey) } : {},
  );
}

/** The index range of the Services of `namespace` (all when undefined) that start at `start`. */
function pageRange(snap: ListSnapshot, start: string, namespace: string | undefined): [number, number] {
  if (namespace === undefined) return [lowerBound(snap.keys, start), snap.keys.length];
  const prefix = `${namespace}/`;
  const first = lowerBound(snap.keys, start > prefix ? start : prefix);
  // Keys sharing the prefix are contiguous; "0" is the character after "/".
  return [first, lowerBound(snap.keys, `${namespace}0`)];
}

/** One page: O(limit + log n) (the snapshot's keys are binary-searched, never rescanned). */
function servicePage(
  state: KubernetesSimulatorState,
  snap: ListSnapshot,
  page: { start: string; limit: number; namespace: string | undefined },
): Record<string, unknown> {
  const { start, limit, namespace } = page;
  const [from, to] = pageRange(snap, start, namespace);
  const items: KubeService[] = [];
  let i = from;
  for (; i < to && (limit === 0 || items.length < limit); i++) {
    const s = snap.items[i] as KubeService;
    if (namespace === undefined || s.metadata?.namespace === namespace) items.push(s);
  }
  const last = items[items.length - 1];
  const metadata: Record<string, unknown> = { resourceVersion: String(snap.rv) };
  if (i < to && last) {
    metadata.continue = encodeContinueToken(snap.rv, serviceKey(last));
    metadata.remainingItemCount = to - i;
  } else {
    state.snapshots.delete(snap.rv);
  }
  return { kind: 'ServiceList', apiVersion: 'v1', metadata, items };
}
