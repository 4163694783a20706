import type { ClusterConfig } from '../config/loadConfig.js';
import { diffIpTags } from '../diff/diffIpTags.js';
import type { TagDelta } from '../diff/TagDelta.js';
import { classify, describeError, FailureKind, SyncError } from '../errors.js';
import { type Logger, withFields } from '../logger.js';
import { DELTA_QUEUE, RECOMPUTE_QUEUE } from '../queues/queueNames.js';
import { type ClusterHead, fitsInIpRow } from '../state/ClusterStateRepository.js';
import { computeIpTags } from '../tags/computeIpTags.js';
import type { IpTagMap } from '../tags/IpTagMap.js';
import { covers, isStaleDelete, nextWriteEventAt, planRetirement } from './clusterHead.js';
import {
  acquireClusterLease,
  type ClusterLease,
  endClusterLease,
  releaseFailedLease,
} from './clusterLease.js';
import { chunkDeltaMessages, type RecomputeMessage, toWireDeltaMessage } from './messages.js';
import type { PipelineDeps, RecomputePhase } from './PipelineDeps.js';
import { resolveTargets } from './resolveTargets.js';

/** What a recompute did. */
export interface RecomputeOutcome {
  cluster: string;
  status: 'unchanged' | 'changed' | 'deleted' | 'coalesced' | 'busy' | 'not-monitored' | 'failed';
  generation?: number;
  ips: number;
  registered: number;
  unregistered: number;
  messages: number;
  targets: string[];
  disconnected: string[];
  /** The diff (always filled; with `dryRun` it is all that happens). */
  deltas: TagDelta[];
  error?: string;
}

/** An outcome that changed nothing (skipped, busy, or failed before anything was committed). */
export function emptyOutcome(cluster: string, status: RecomputeOutcome['status']): RecomputeOutcome {
  return {
    cluster,
    status,
    ips: 0,
    registered: 0,
    unregistered: 0,
    messages: 0,
    targets: [],
    disconnected: [],
    deltas: [],
  };
}

/** The recompute ran out of its time budget (the invocation's `functionTimeout`): retry later. */
export class RecomputeTimeoutError extends SyncError {
  constructor(cluster: string, budgetMs: number) {
    super(
      `recompute of ${cluster} stopped: it ran longer than its ${Math.round(budgetMs / 1000)} s budget inside functionTimeout; it is retried (see docs/host-json.md)`,
      {
        kind: FailureKind.retryable,
        details: { cluster, budgetMs },
      },
    );
    this.name = 'RecomputeTimeoutError';
  }
}

/** One recompute that holds the lease: what it works on. */
interface LeasedRun {
  request: RecomputeMessage;
  deps: PipelineDeps;
  log: Logger;
  lease: ClusterLease;
  clusterName: string;
  known: ClusterConfig | undefined;
  deleted: boolean;
  /** Throws {@link RecomputeTimeoutError} once the budget is spent. */
  checkDeadline: () => void;
  started: number;
}

/**
 * Recomputes one cluster: lease the cluster, list its Services, compute the tags, diff against the
 * Table state, enqueue delta messages per target (before committing), then commit the new state
 * and generation and release the lease.
 *
 * - A request already covered by a committed recompute that started later is `coalesced`.
 * - A cluster leased by another recompute is `busy`: the request is re-enqueued with a delay.
 * - `deleted` requests unregister everything and leave an empty state behind (a tombstone head);
 *   a delete event older than a write event already acted on is a plain recompute.
 * - Every row write is fenced by the lease; a recompute past `recomputeBudgetMs` stops.
 * - With `dryRun`, only the diff is computed; nothing is written or sent.
 */
export async function recomputeCluster(
  request: RecomputeMessage,
  deps: PipelineDeps,
  options: { dryRun?: boolean } = {},
): Promise<RecomputeOutcome> {
  const started = Date.now();
  const known = (await deps.clusters.listClusters()).find(
    (c) => c.name.toLowerCase() === request.cluster.toLowerCase(),
  );
  const log = withFields(deps.logger, { cluster: known?.name ?? request.cluster, reason: request.reason });
  const clusterName = known?.name ?? request.cluster;
  if (!known && !request.deleted) {
    log.warn('recompute skipped: cluster is not monitored (not in CLUSTERS nor discovered)');
    return emptyOutcome(request.cluster, 'not-monitored');
  }
  if (options.dryRun) return dryRun(request, deps, known, clusterName, log);

  const before = await deps.clusterState.getHead(clusterName);
  if (covers(before, request)) {
    log.info('recompute coalesced: a later committed recompute covers this request', {
      requestedAt: request.requestedAt,
    });
    return emptyOutcome(clusterName, 'coalesced');
  }
  const stale = isStaleDelete(before, request);
  if (stale) {
    log.warn('delete event older than a write event already acted on: recomputing instead of deleting', {
      eventTime: request.eventTime,
      lastWriteEventAt: before?.lastWriteEventAt,
    });
    if (!known) return emptyOutcome(clusterName, 'not-monitored');
  }
  const lease = await acquireClusterLease(deps, {
    name: clusterName,
    ...(known?.resourceId ? { resourceId: known.resourceId } : {}),
  });
  if (!lease) {
    await deps.queues.send(RECOMPUTE_QUEUE, request, { delaySeconds: deps.busyRetrySeconds });
    log.info('recompute deferred: another recompute holds the cluster lease', {
      retryInSeconds: deps.busyRetrySeconds,
      deleted: request.deleted === true,
    });
    return emptyOutcome(clusterName, 'busy');
  }
  const deleted = request.deleted === true && !stale;
  const deadline = started + deps.recomputeBudgetMs;
  const checkDeadline = () => {
    if (Date.now() > deadline) throw new RecomputeTimeoutError(clusterName, deps.recomputeBudgetMs);
  };
  const run: LeasedRun = { request, deps, log, lease, clusterName, known, deleted, checkDeadline, started };
  try {
    const outcome = await runLeased(run);
    await endClusterLease(deps, lease);
    return outcome;
  } catch (err) {
    const message = describeError(err);
    log.error('recompute failed', { error: message, kind: classify(err), deleted });
    await releaseFailedLease(deps, lease, { error: message }, log);
    // A delete is never dropped: it is retried, then poisoned (replayable).
    if (classify(err) === FailureKind.permanent && !deleted) {
      return { ...emptyOutcome(clusterName, 'failed'), error: message };
    }
    throw err;
  }
}

async function dryRun(
  request: RecomputeMessage,
  deps: PipelineDeps,
  known: ClusterConfig | undefined,
  clusterName: string,
  log: Logger,
): Promise<RecomputeOutcome> {
  const desired = request.deleted || !known ? new Map() : await desiredTags(known, deps, log);
  const last = await deps.clusterState.readIpTags(clusterName);
  const deltas = diffIpTags(last, keepUnstorable(desired, last, log));
  return { ...summarize(clusterName, deltas, desired), status: deltas.length ? 'changed' : 'unchanged' };
}

/** The phases of a recompute that holds the lease. */
async function runLeased(run: LeasedRun): Promise<RecomputeOutcome> {
  const { deps, lease, clusterName, known, deleted, log } = run;
  const listed =
    deleted || !known ? new Map<string, readonly string[]>() : await desiredTags(known, deps, log);
  run.checkDeadline();
  const last = await deps.clusterState.readIpTags(clusterName);
  const desired = keepUnstorable(listed, last, log);
  const deltas = diffIpTags(last, desired);
  const committed = Math.max(lease.head.generation, lease.head.pendingGeneration);
  if (deltas.length === 0) {
    await commit(run, lease.head, { generation: committed, desired });
    log.info('recompute done: no change', {
      generation: committed,
      ips: desired.size,
      durationMs: Date.now() - run.started,
    });
    return {
      ...summarize(clusterName, [], desired),
      status: deleted ? 'deleted' : 'unchanged',
      generation: committed,
    };
  }

  const { targets, disconnected } = await targetsOf(run);
  const retirement = planRetirement(lease.head, { targets, disconnected });
  if (retirement.held)
    log.error(`target removal held: ${retirement.held}`, { deviceGroups: known?.deviceGroups });
  const generation = committed + 1;
  enter(run, 'announce');
  const announced = await deps.clusterState.replaceHead({ ...lease.head, pendingGeneration: generation });
  enter(run, 'enqueue');
  const messages = await enqueueDeltas(run, deltas, targets, generation);
  await recordDisconnected(run, disconnected);
  run.checkDeadline();
  enter(run, 'write-rows');
  await writeRows(run, deltas, desired, generation);
  await commit(run, announced, { generation, desired, targets, retiring: retirement.retiring });
  deps.queues.notify(DELTA_QUEUE);
  const outcome: RecomputeOutcome = {
    ...summarize(clusterName, deltas, desired),
    status: deleted ? 'deleted' : 'changed',
    generation,
    messages,
    targets,
    disconnected,
  };
  log.info('recompute done', {
    generation,
    ips: outcome.ips,
    changedIps: deltas.length,
    registered: outcome.registered,
    unregistered: outcome.unregistered,
    targets: targets.length,
    disconnected: disconnected.length,
    retiringTargets: retirement.retiring.length,
    messages,
    durationMs: Date.now() - run.started,
  });
  return outcome;
}

/** Marks the start of a write phase (see {@link RecomputePhase}). */
function enter(run: LeasedRun, phase: RecomputePhase): void {
  run.deps.onRecomputePhase?.(phase, run.clusterName);
}

/** The cluster's targets: from its device groups, or (deleted and gone from the directory) the last ones. */
async function targetsOf(run: LeasedRun): Promise<{ targets: string[]; disconnected: string[] }> {
  const { known, lease, deps, clusterName } = run;
  if (!known && lease.head.targets.length > 0) return { targets: lease.head.targets, disconnected: [] };
  const cluster: ClusterConfig = known ?? {
    name: clusterName,
    auth: { type: 'azureAd' },
    labelSelectors: [],
    deviceGroups: [],
  };
  return resolveTargets(cluster, deps.panorama);
}

/** Enqueues the deltas to every target (chunked and compressed once; messages differ only in `target`). */
async function enqueueDeltas(
  run: LeasedRun,
  deltas: readonly TagDelta[],
  targets: readonly string[],
  generation: number,
): Promise<number> {
  const longest = targets.reduce((a, b) => (b.length > a.length ? b : a), '');
  const chunks = chunkDeltaMessages(
    { v: 1, cluster: run.clusterName, target: longest || 'x', generation },
    deltas,
  );
  const wire = chunks.map(toWireDeltaMessage);
  let messages = 0;
  for (const target of targets) {
    for (const m of wire) {
      await run.deps.queues.send(DELTA_QUEUE, { ...m, target }, { quiet: true });
      messages++;
    }
  }
  return messages;
}

async function recordDisconnected(run: LeasedRun, disconnected: readonly string[]): Promise<void> {
  for (const serial of disconnected) {
    await run.deps.targetStatus.recordPush({
      cluster: run.clusterName,
      target: serial,
      disconnected: true,
      lastError: 'firewall not connected to Panorama; the audit will repair it',
      lastErrorAt: run.deps.now().toISOString(),
    });
  }
}

/** Writes the changed IP rows, fenced by the lease and bounded by the budget. */
async function writeRows(
  run: LeasedRun,
  deltas: readonly TagDelta[],
  desired: IpTagMap,
  generation: number,
): Promise<void> {
  const upserts = new Map<string, readonly string[]>();
  const removed: string[] = [];
  for (const d of deltas) {
    const tags = desired.get(d.ip);
    if (tags && tags.length > 0) upserts.set(d.ip, tags);
    else removed.push(d.ip);
  }
  await run.deps.clusterState.writeIpTags(run.clusterName, upserts, removed, generation, {
    fence: run.lease.owner,
    beforeBatch: run.checkDeadline,
  });
}

/** Commits a generation and releases the lease in one ETag-conditional head write. */
async function commit(
  run: LeasedRun,
  head: ClusterHead,
  next: { generation: number; desired: IpTagMap; targets?: string[]; retiring?: string[] },
): Promise<void> {
  const { deps, deleted, request } = run;
  enter(run, 'commit');
  const now = deps.now().toISOString();
  const writeEventAt = nextWriteEventAt(head, request);
  await deps.clusterState.replaceHead({
    ...head,
    generation: next.generation,
    pendingGeneration: next.generation,
    leaseOwner: '',
    leaseUntil: '',
    lastRecomputeAt: now,
    lastRecomputeResult: deleted ? 'deleted' : next.targets ? 'changed' : 'unchanged',
    lastError: '',
    ipCount: next.desired.size,
    tagCount: countTags(next.desired),
    ...(next.targets ? { targets: next.targets } : {}),
    ...(next.retiring ? { retiringTargets: next.retiring } : {}),
    syncedFrom: run.lease.head.lastRecomputeStartedAt ?? now,
    ...(writeEventAt ? { lastWriteEventAt: writeEventAt } : {}),
    deletedAt: deleted ? head.deletedAt || now : '',
  });
}

/**
 * IPs whose tags can never fit in a state row keep their last-known tags (nothing is sent for
 * them), with an error naming the IP: one hostile Service must not stop the rest of the cluster.
 */
function keepUnstorable(desired: IpTagMap, last: IpTagMap, log: Logger): IpTagMap {
  let out: Map<string, readonly string[]> | undefined;
  for (const [ip, tags] of desired) {
    if (fitsInIpRow(tags)) continue;
    out ??= new Map(desired);
    const kept = last.get(ip);
    if (kept) out.set(ip, kept);
    else out.delete(ip);
    log.error('IP skipped: its tags do not fit in one state row; its last-known tags are kept', {
      ip,
      tags: tags.length,
    });
  }
  return out ?? desired;
}

function countTags(map: IpTagMap): number {
  let n = 0;
  for (const tags of map.values()) n += tags.length;
  return n;
}

async function desiredTags(cluster: ClusterConfig, deps: PipelineDeps, log: Logger) {
  const services = await deps.services.listServices(cluster);
  const { tags, issues } = computeIpTags(services, {
    cluster: cluster.name,
    selectors: cluster.labelSelectors,
  });
  for (const issue of issues) {
    const fields = { service: issue.service, label: issue.label, ip: issue.ip };
    if (issue.severity === 'error') log.error(issue.message, fields);
    else log.warn(issue.message, fields);
  }
  log.debug('services harvested', { services: services.length, ips: tags.size });
  return tags;
}

function summarize(
  cluster: string,
  deltas: readonly TagDelta[],
  desired: IpTagMap,
): Omit<RecomputeOutcome, 'status'> {
  let registered = 0;
  let unregistered = 0;
  for (const d of deltas) {
    registered += d.register.length;
    unregistered += d.unregister.length;
  }
  return {
    cluster,
    ips: desired.size,
    registered,
    unregistered,
    messages: 0,
    targets: [],
    disconnected: [],
    deltas: [...deltas],
  };
}
