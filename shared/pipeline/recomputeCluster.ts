import type { ClusterConfig } from '../config/loadConfig.js';
import type { TagDelta } from '../diff/TagDelta.js';
import { classify, describeError, FailureKind, SyncError } from '../errors.js';
import { type Logger, withFields } from '../logger.js';
import type { StepOutcome } from '../queues/QueueStep.js';
import { DELTA_QUEUE } from '../queues/queueNames.js';
import type { ClusterHead, SnapshotWritten } from '../state/ClusterStateRepository.js';
import { tagMapDigest } from '../state/canonicalTagMap.js';
import { computeIpTags, tagOptionsOf } from '../tags/computeIpTags.js';
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
import { planRecompute, type RecomputePlan, type RemovalRules } from './planRecompute.js';
import { countPairs, type RemovalVerdict } from './removalGuard.js';
import {
  type ClusterTargets,
  resolveTargets,
  type TargetInfo,
  targetStatusFields,
} from './resolveTargets.js';

/** What a recompute did (`busy`: `requeueAfter` brings the request back with a delay). */
export interface RecomputeOutcome extends StepOutcome {
  cluster: string;
  status: 'unchanged' | 'changed' | 'held' | 'deleted' | 'coalesced' | 'busy' | 'not-monitored' | 'failed';
  generation?: number;
  ips: number;
  registered: number;
  unregistered: number;
  messages: number;
  targets: string[];
  disconnected: string[];
  /** The diff (always filled; with `dryRun` it is all that happens). */
  deltas: TagDelta[];
  /** The removal guard held this recompute's removals (`status` `held`; with `dryRun`: it would). */
  held?: RemovalVerdict;
  error?: string;
  /** Hostname, device group and vsys of each firewall target (when the targets were resolved). */
  targetInfo?: Record<string, TargetInfo>;
  /**
   * What is wrong with the cluster's targets (a device group resolving to no firewall), from this
   * recompute's resolution or, when it resolved none, the last one recorded on the head.
   */
  targetProblems?: string[];
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
  /** The removals of this recompute were approved (`reconcile --allow-removals`). */
  allowRemovals: boolean;
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
 * - A cluster leased by another recompute is `busy`: the outcome asks for the request again after
 *   `busyRetrySeconds`.
 * - `deleted` requests unregister everything and leave an empty state behind (a tombstone head);
 *   a delete event older than a write event already acted on is a plain recompute.
 * - Every row write is fenced by the lease; a recompute past `recomputeBudgetMs` stops.
 * - Removals that reach the removal guard's thresholds are held (status `held`): registrations go
 *   through, the removed pairs stay committed. Not for a confirmed delete, nor with `allowRemovals`.
 *   `upsert-only` never sends an unregistration.
 * - With `dryRun`, only the diff is computed (and the targets resolved); nothing is written or sent.
 */
export async function recomputeCluster(
  request: RecomputeMessage,
  deps: PipelineDeps,
  options: { dryRun?: boolean; allowRemovals?: boolean } = {},
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
  const allowRemovals = options.allowRemovals === true;
  if (options.dryRun) return dryRun(request, deps, known, clusterName, log, allowRemovals);
  const admitted = await admit(request, deps, { known, clusterName, log });
  if ('outcome' in admitted) return admitted.outcome;
  const lease = await acquireClusterLease(deps, {
    name: clusterName,
    ...(known?.resourceId ? { resourceId: known.resourceId } : {}),
  });
  if (!lease) {
    log.info('recompute deferred: another recompute holds the cluster lease', {
      retryInSeconds: deps.busyRetrySeconds,
      deleted: request.deleted === true,
    });
    return {
      ...emptyOutcome(clusterName, 'busy'),
      requeueAfter: { seconds: deps.busyRetrySeconds, message: request },
    };
  }
  const deleted = request.deleted === true && !admitted.stale;
  const deadline = started + deps.recomputeBudgetMs;
  const checkDeadline = () => {
    if (Date.now() > deadline) throw new RecomputeTimeoutError(clusterName, deps.recomputeBudgetMs);
  };
  return runWithLease({
    ...{ request, deps, log, lease, clusterName, known, deleted, allowRemovals },
    ...{ checkDeadline, started },
  });
}

/**
 * Whether a request is still to be done: not when a later committed recompute covers it
 * (`coalesced`); a delete event staler than a write event already acted on is a plain recompute
 * (`stale`), or nothing when the cluster is no longer monitored.
 */
async function admit(
  request: RecomputeMessage,
  deps: PipelineDeps,
  context: { known: ClusterConfig | undefined; clusterName: string; log: Logger },
): Promise<{ outcome: RecomputeOutcome } | { stale: boolean }> {
  const { clusterName, log } = context;
  const before = await deps.clusterState.getHead(clusterName);
  if (covers(before, request)) {
    log.info('recompute coalesced: a later committed recompute covers this request', {
      requestedAt: request.requestedAt,
    });
    return { outcome: emptyOutcome(clusterName, 'coalesced') };
  }
  const stale = isStaleDelete(before, request);
  if (stale) {
    log.warn('delete event older than a write event already acted on: recomputing instead of deleting', {
      eventTime: request.eventTime,
      lastWriteEventAt: before?.lastWriteEventAt,
    });
    if (!context.known) return { outcome: emptyOutcome(clusterName, 'not-monitored') };
  }
  return { stale };
}

/** Runs a leased recompute and ends its lease: released on success, released with the error on failure. */
async function runWithLease(run: LeasedRun): Promise<RecomputeOutcome> {
  const { deps, lease, log, deleted, clusterName } = run;
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
  allowRemovals: boolean,
): Promise<RecomputeOutcome> {
  const deleted = request.deleted === true;
  const listed = deleted || !known ? new Map() : (await desiredTags(known, deps, log)).tags;
  const last = await deps.clusterState.readIpTags(clusterName);
  const plan = planRecompute(
    last,
    listed,
    removalRules(deps, await deps.clusterState.getHead(clusterName), deleted, allowRemovals),
  );
  // The device groups are resolved as the real run does, so an unknown one fails here too.
  const resolved = known ? await resolveTargets(known, deps.panorama) : undefined;
  return {
    ...summarize(clusterName, plan.send, plan.desired),
    deltas: plan.send,
    status: plan.hold ? 'held' : plan.deltas.length ? 'changed' : 'unchanged',
    targets: resolved?.targets ?? [],
    disconnected: resolved?.disconnected ?? [],
    ...(resolved ? targetFields(resolved) : {}),
    ...(plan.hold ? { held: plan.hold } : {}),
  };
}

function removalRules(
  deps: PipelineDeps,
  head: ClusterHead | undefined,
  deleted: boolean,
  allowRemovals: boolean,
): RemovalRules {
  return {
    policy: deps.syncPolicy,
    guard: deps.removalGuard,
    guarded: !deleted && !allowRemovals,
    holdBase: head?.heldRemovals ? head.holdBasePairs : 0,
    ...(head ? { cluster: head.cluster } : {}),
  };
}

/** The phases of a recompute that holds the lease. */
async function runLeased(run: LeasedRun): Promise<RecomputeOutcome> {
  const plan = await planLeased(run);
  const committed = Math.max(run.lease.head.generation, run.lease.head.pendingGeneration);
  return plan.deltas.length === 0
    ? commitUnchanged(run, plan, committed)
    : commitChanged(run, plan, committed + 1);
}

/** A recompute's plan, with what `status` shows of the harvested tags. */
type LeasedPlan = RecomputePlan & Omit<HarvestedTags, 'tags'>;

/** Lists the cluster, reads its committed state and plans the recompute (removal guard included). */
async function planLeased(run: LeasedRun): Promise<LeasedPlan> {
  const { deps, lease, known, deleted, log } = run;
  const { tags: listed, ...found } =
    deleted || !known
      ? { tags: new Map<string, readonly string[]>(), ipsOverBudget: 0, policyWarnings: '' }
      : await desiredTags(known, deps, log);
  run.checkDeadline();
  const last = await committedUnlessEqual(run, listed);
  const plan = planRecompute(last, listed, removalRules(deps, lease.head, deleted, run.allowRemovals));
  const { hold } = plan;
  if (hold)
    log.error(hold.reason ?? 'removal guard held', {
      removals: hold.removals,
      committedPairs: hold.committedPairs,
    });
  return { ...plan, ...found };
}

/**
 * The committed state, unless the head's digest says it equals `listed`: then `listed` itself (no
 * snapshot is read).
 */
async function committedUnlessEqual(run: LeasedRun, listed: IpTagMap): Promise<IpTagMap> {
  const { head } = run.lease;
  if (head.snapshot !== undefined && head.digest === tagMapDigest(listed)) {
    run.log.debug('state unchanged (digest equal): snapshot not read', { snapshot: head.snapshot });
    return listed;
  }
  return run.deps.clusterState.readIpTags(run.clusterName);
}

/**
 * Nothing changes in the state: commit (lease released, hold recorded) without a new generation. A
 * head without a snapshot (0.1.0 rows, or none yet) gets one, and the 0.1.0 rows are removed.
 */
async function commitUnchanged(
  run: LeasedRun,
  plan: LeasedPlan,
  generation: number,
): Promise<RecomputeOutcome> {
  const { desired, hold } = plan;
  const snapshot =
    run.lease.head.snapshot === undefined ? await writeSnapshot(run, desired, generation) : undefined;
  await commit(run, run.lease.head, { generation, desired, hold, found: plan, snapshot });
  run.log.info('recompute done: no change', {
    generation,
    ips: desired.size,
    durationMs: Date.now() - run.started,
  });
  const problems = run.lease.head.targetProblems;
  return {
    ...summarize(run.clusterName, [], desired),
    status: hold ? 'held' : run.deleted ? 'deleted' : 'unchanged',
    generation,
    ...(hold ? { held: hold } : {}),
    ...(problems ? { targetProblems: problems.split('\n') } : {}),
  };
}

/** The write phases of a recompute that changes the state: announce, enqueue, write rows, commit. */
async function commitChanged(
  run: LeasedRun,
  plan: LeasedPlan,
  generation: number,
): Promise<RecomputeOutcome> {
  const { deps, lease, known, log } = run;
  const { desired, deltas, hold } = plan;
  const resolved = await targetsOf(run);
  const { targets, disconnected } = resolved;
  const retirement = planRetirement(lease.head, { targets, disconnected });
  if (retirement.held)
    log.error(`target removal held: ${retirement.held}`, { deviceGroups: known?.deviceGroups });
  for (const problem of resolved.problems)
    log.error(`targets: ${problem}`, { deviceGroups: known?.deviceGroups });
  enter(run, 'announce');
  const announced = await deps.clusterState.replaceHead({ ...lease.head, pendingGeneration: generation });
  enter(run, 'enqueue');
  const messages = await enqueueDeltas(run, plan.send, resolved, generation);
  await recordTargets(run, resolved);
  run.checkDeadline();
  enter(run, 'write-snapshot');
  const snapshot = await writeSnapshot(run, desired, generation);
  await commit(run, announced, {
    ...{ generation, desired, targets, retiring: retirement.retiring, snapshot },
    ...{ hold, found: plan, targetProblems: resolved.problems },
  });
  deps.queues.notify(DELTA_QUEUE);
  const outcome: RecomputeOutcome = {
    ...summarize(run.clusterName, plan.send, desired),
    status: hold ? 'held' : run.deleted ? 'deleted' : 'changed',
    ...{ generation, messages, targets, disconnected },
    ...targetFields(resolved),
    ...(hold ? { held: hold } : {}),
  };
  log.info('recompute done', {
    ...{ generation, ips: outcome.ips, changedIps: deltas.length },
    ...{ registered: outcome.registered, unregistered: outcome.unregistered },
    ...{ targets: targets.length, disconnected: disconnected.length },
    ...{ retiringTargets: retirement.retiring.length, messages, durationMs: Date.now() - run.started },
    ...{ snapshotEntities: snapshot.entities, snapshotBytes: snapshot.bytes },
  });
  return outcome;
}

/** Marks the start of a write phase (see {@link RecomputePhase}). */
function enter(run: LeasedRun, phase: RecomputePhase): void {
  run.deps.onRecomputePhase?.(phase, run.clusterName);
}

/** The outcome fields of a resolution: target details and problems, when there are any. */
function targetFields(resolved: ClusterTargets): Pick<RecomputeOutcome, 'targetInfo' | 'targetProblems'> {
  return {
    ...(resolved.info.size > 0 ? { targetInfo: Object.fromEntries(resolved.info) } : {}),
    ...(resolved.problems.length > 0 ? { targetProblems: resolved.problems } : {}),
  };
}

/** The cluster's targets: from its device groups, or (deleted and gone from the directory) the last ones. */
async function targetsOf(run: LeasedRun): Promise<ClusterTargets> {
  const { known, lease, deps, clusterName } = run;
  if (!known && lease.head.targets.length > 0)
    return { targets: lease.head.targets, disconnected: [], info: new Map(), problems: [] };
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
  { targets, info }: Pick<ClusterTargets, 'targets' | 'info'>,
  generation: number,
): Promise<number> {
  if (deltas.length === 0) return 0;
  const longest = targets.reduce((a, b) => (b.length > a.length ? b : a), '');
  const chunks = chunkDeltaMessages(
    { v: 1, cluster: run.clusterName, target: longest || 'x', generation },
    deltas,
  );
  const wire = chunks.map(toWireDeltaMessage);
  let messages = 0;
  for (const target of targets) {
    for (const m of wire) {
      const where = info.get(target);
      const host = where ? { hostname: where.hostname, deviceGroup: where.deviceGroup } : {};
      await run.deps.queues.send(DELTA_QUEUE, { ...m, target, ...host }, { quiet: true });
      messages++;
    }
  }
  return messages;
}

/**
 * Records, per firewall target, its hostname, device group and vsys (what `status` shows), and
 * marks disconnected firewalls (left to the audit).
 */
async function recordTargets(run: LeasedRun, resolved: ClusterTargets): Promise<void> {
  const disconnected = new Set(resolved.disconnected);
  for (const target of [...resolved.targets, ...resolved.disconnected]) {
    const info = resolved.info.get(target);
    if (!info && !disconnected.has(target)) continue;
    await run.deps.targetStatus.recordPush({
      cluster: run.clusterName,
      target,
      ...(info ? targetStatusFields(info) : {}),
      ...(disconnected.has(target)
        ? {
            disconnected: true,
            lastError: 'firewall not connected to Panorama; the audit will repair it',
            lastErrorAt: run.deps.now().toISOString(),
          }
        : {}),
    });
  }
}

/** Writes the snapshot of the state to commit, fenced by the lease and bounded by the budget. */
async function writeSnapshot(
  run: LeasedRun,
  desired: IpTagMap,
  generation: number,
): Promise<SnapshotWritten> {
  const written = await run.deps.clusterState.writeSnapshot(run.clusterName, generation, desired, {
    fence: run.lease.owner,
    beforeBatch: run.checkDeadline,
  });
  run.log.debug('state snapshot written', { ...written });
  return written;
}

/** Commits a generation and releases the lease in one ETag-conditional head write. */
async function commit(
  run: LeasedRun,
  head: ClusterHead,
  next: {
    generation: number;
    desired: IpTagMap;
    targets?: string[];
    retiring?: string[];
    hold?: RemovalVerdict | undefined;
    found: Omit<HarvestedTags, 'tags'>;
    /** Problems of the targets resolved by this recompute; absent = keep the head's. */
    targetProblems?: readonly string[];
    /** The snapshot this commit points the head at; absent = the head's stays. */
    snapshot?: SnapshotWritten | undefined;
  },
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
    lastRecomputeResult: next.hold ? 'held' : deleted ? 'deleted' : next.targets ? 'changed' : 'unchanged',
    lastError: next.hold?.reason ?? '',
    heldRemovals: next.hold?.removals ?? 0,
    holdBasePairs: next.hold?.committedPairs ?? 0,
    ipsOverBudget: next.found.ipsOverBudget,
    policyWarnings: next.found.policyWarnings,
    ipCount: next.desired.size,
    tagCount: countPairs(next.desired),
    ...(next.targets ? { targets: next.targets } : {}),
    ...(next.retiring ? { retiringTargets: next.retiring } : {}),
    ...(next.targetProblems ? { targetProblems: next.targetProblems.join('\n') } : {}),
    syncedFrom: run.lease.head.lastRecomputeStartedAt ?? now,
    ...(writeEventAt ? { lastWriteEventAt: writeEventAt } : {}),
    deletedAt: deleted ? head.deletedAt || now : '',
    ...(next.snapshot ? { snapshot: next.snapshot.snapshot, digest: next.snapshot.digest } : {}),
  });
  if (next.snapshot) await pruneSnapshots(run, next.snapshot.snapshot);
}

/**
 * Removes the snapshots no reader needs any more (all but the committed one and the one before it)
 * and the 0.1.0 rows, fenced by the lease. Best effort: a failure is logged and the next commit
 * that writes a snapshot retries.
 */
async function pruneSnapshots(run: LeasedRun, current: number): Promise<void> {
  const previous = run.lease.head.snapshot;
  try {
    const pruned = await run.deps.clusterState.pruneSnapshots(
      run.clusterName,
      { current, ...(previous !== undefined && previous !== current ? { previous } : {}) },
      { fence: run.lease.owner },
    );
    if (pruned.legacyRows > 0)
      run.log.info('state migrated: the 0.1.0 rows (one per IP) are replaced by a snapshot', {
        ...{ snapshot: current, legacyRows: pruned.legacyRows },
      });
  } catch (err) {
    run.log.warn('old state snapshots not removed; the next commit retries', {
      snapshot: current,
      error: describeError(err),
    });
  }
}

/** The cluster's tags now, with what `status` shows of them. */
interface HarvestedTags {
  tags: IpTagMap;
  ipsOverBudget: number;
  policyWarnings: string;
}

/** How many IPs cut to their budget a recompute names in its log (all are counted in `status`). */
const LOGGED_CUTS = 5;

/** The cluster's tags now, with every issue of the engine logged (IPs cut to budget in one line). */
async function desiredTags(cluster: ClusterConfig, deps: PipelineDeps, log: Logger): Promise<HarvestedTags> {
  const services = await deps.services.listServices(cluster);
  const { tags, issues, cuts } = computeIpTags(services, tagOptionsOf(cluster));
  const doubtful = issues.filter((i) => i.kind === 'shared-service-tag' || i.kind === 'unmatched-selector');
  for (const issue of issues) {
    if (issue.kind === 'over-budget') continue;
    const fields = { service: issue.service, label: issue.label, ip: issue.ip };
    if (issue.severity === 'error') log.error(issue.message, fields);
    else log.warn(issue.message, fields);
  }
  const over = issues.filter((i) => i.kind === 'over-budget');
  if (over.length > 0) {
    const more = over.length > LOGGED_CUTS ? `; and ${over.length - LOGGED_CUTS} more IPs` : '';
    log.warn(
      `${over.length} IPs have more tags than their budget: ${over
        .slice(0, LOGGED_CUTS)
        .map((i) => i.message)
        .join(' | ')}${more}`,
      {
        ipsOverBudget: cuts.length,
        droppedTags: cuts.reduce((n, c) => n + c.dropped.length, 0),
      },
    );
  }
  log.debug('services harvested', { services: services.length, ips: tags.size });
  return {
    tags,
    ipsOverBudget: cuts.length,
    policyWarnings: doubtful
      .map((i) => i.message)
      .join('\n')
      .slice(0, 2000),
  };
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
