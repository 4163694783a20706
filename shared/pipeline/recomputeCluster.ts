import { randomUUID } from 'node:crypto';
import type { ClusterConfig } from '../config/loadConfig.js';
import { diffIpTags } from '../diff/diffIpTags.js';
import type { TagDelta } from '../diff/TagDelta.js';
import { classify, describeError, FailureKind } from '../errors.js';
import { withFields } from '../logger.js';
import { DELTA_QUEUE, RECOMPUTE_QUEUE } from '../queues/queueNames.js';
import { type ClusterHead, ConcurrencyConflictError } from '../state/ClusterStateStore.js';
import { computeIpTags } from '../tags/computeIpTags.js';
import type { IpTagMap } from '../tags/IpTagMap.js';
import { chunkDeltaMessages, type RecomputeMessage, toWireDeltaMessage } from './messages.js';
import type { PipelineDeps } from './PipelineDeps.js';
import { resolveTargets } from './resolveTargets.js';

/** What a recompute did. */
export interface RecomputeOutcome {
  cluster: string;
  status: 'unchanged' | 'changed' | 'deleted' | 'coalesced' | 'busy' | 'unknown' | 'failed';
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

/** Clock-skew margin: a recompute must have started this long after a request to cover it. */
const COVER_MARGIN_MS = 2000;

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

function leaseActive(head: ClusterHead | undefined, now: Date): boolean {
  return !!head?.leaseOwner && !!head.leaseUntil && Date.parse(head.leaseUntil) > now.getTime();
}

/** True when a recompute that started after the request already covers it (burst coalescing). */
function coveredBy(head: ClusterHead | undefined, requestedAt: string, now: Date): boolean {
  if (!head?.lastRecomputeStartedAt) return false;
  const started = Date.parse(head.lastRecomputeStartedAt);
  if (!(started > Date.parse(requestedAt) + COVER_MARGIN_MS)) return false;
  const finished = head.lastRecomputeAt ? Date.parse(head.lastRecomputeAt) >= started : false;
  return (finished && head.lastRecomputeResult !== 'failed') || leaseActive(head, now);
}

async function acquireLease(
  deps: PipelineDeps,
  owner: string,
  cluster: ClusterConfig | { name: string; resourceId?: string },
): Promise<ClusterHead | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const now = deps.now();
    const leased = {
      leaseOwner: owner,
      leaseUntil: new Date(now.getTime() + deps.leaseSeconds * 1000).toISOString(),
      lastRecomputeStartedAt: now.toISOString(),
    };
    const head = await deps.state.getHead(cluster.name);
    try {
      if (!head) {
        return await deps.state.createHead({
          cluster: cluster.name,
          generation: 0,
          pendingGeneration: 0,
          ipCount: 0,
          tagCount: 0,
          targets: [],
          ...(cluster.resourceId ? { resourceId: cluster.resourceId } : {}),
          ...leased,
        });
      }
      if (leaseActive(head, now)) return undefined;
      return await deps.state.replaceHead({ ...head, ...leased });
    } catch (err) {
      if (!(err instanceof ConcurrencyConflictError)) throw err;
    }
  }
  return undefined;
}

function countTags(map: IpTagMap): number {
  let n = 0;
  for (const tags of map.values()) n += tags.length;
  return n;
}

/**
 * Recomputes one cluster (design §2): lease the cluster, list its Services, compute the tags, diff
 * against the Table state, enqueue delta messages per target (before committing), then commit the
 * new state and generation and release the lease.
 *
 * - A request already covered by a recompute that started later is `coalesced`.
 * - A cluster leased by another recompute is `busy`: the request is re-enqueued with a delay.
 * - `deleted` requests unregister everything and leave an empty state behind (a tombstone head).
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
  if (!known && !request.deleted) {
    log.warn('recompute skipped: cluster is not monitored (not in CLUSTERS nor discovered)');
    return emptyOutcome(request.cluster, 'unknown');
  }
  const clusterName = known?.name ?? request.cluster;
  const deleted = request.deleted === true;

  if (options.dryRun) {
    const desired = deleted || !known ? new Map() : await desiredTags(known, deps, log);
    const last = await deps.state.readIpTags(clusterName);
    const deltas = diffIpTags(last, desired);
    return {
      ...summarize(clusterName, deltas, desired),
      status: deltas.length ? 'changed' : 'unchanged',
      deltas,
    };
  }

  const before = await deps.state.getHead(clusterName);
  if (coveredBy(before, request.requestedAt, deps.now())) {
    log.debug('recompute coalesced: a later recompute covers this request');
    return emptyOutcome(clusterName, 'coalesced');
  }
  // The lease belongs to this invocation: the host runs several messages at once in one process.
  const owner = `${deps.instanceId}/${randomUUID().slice(0, 8)}`;
  const head = await acquireLease(deps, owner, known ?? { name: clusterName });
  if (!head) {
    await deps.queues.send(RECOMPUTE_QUEUE, request, { delaySeconds: deps.busyRetrySeconds });
    log.info('recompute deferred: another recompute holds the cluster lease', {
      retryInSeconds: deps.busyRetrySeconds,
    });
    return emptyOutcome(clusterName, 'busy');
  }

  let current = head;
  try {
    const desired =
      deleted || !known ? new Map<string, readonly string[]>() : await desiredTags(known, deps, log);
    const last = await deps.state.readIpTags(clusterName);
    const deltas = diffIpTags(last, desired);
    const committed = Math.max(current.generation, current.pendingGeneration);
    const nowIso = () => deps.now().toISOString();
    if (deltas.length === 0) {
      await deps.state.replaceHead({
        ...current,
        generation: committed,
        pendingGeneration: committed,
        leaseOwner: '',
        leaseUntil: '',
        lastRecomputeAt: nowIso(),
        lastRecomputeResult: deleted ? 'deleted' : 'unchanged',
        lastError: '',
        ipCount: desired.size,
        tagCount: countTags(desired),
        ...(deleted ? { deletedAt: current.deletedAt || nowIso() } : { deletedAt: '' }),
      });
      const outcome = {
        ...summarize(clusterName, [], desired),
        status: deleted ? 'deleted' : 'unchanged',
        generation: committed,
      } as const;
      log.info('recompute done: no change', {
        generation: committed,
        ips: desired.size,
        durationMs: Date.now() - started,
      });
      return { ...outcome, deltas: [] };
    }

    const cluster: ClusterConfig = known ?? {
      name: clusterName,
      auth: { type: 'azureAd' },
      labelSelectors: [],
      deviceGroups: [],
    };
    const { targets, disconnected } =
      known || current.targets.length === 0
        ? await resolveTargets(cluster, deps.panorama)
        : { targets: current.targets, disconnected: [] };
    const generation = committed + 1;
    current = await deps.state.replaceHead({ ...current, pendingGeneration: generation });

    let messages = 0;
    // Chunked and compressed once; the messages of each target differ only in `target` (sized for the longest).
    const longest = targets.reduce((a, b) => (b.length > a.length ? b : a), '');
    const chunks = chunkDeltaMessages(
      { v: 1, cluster: clusterName, target: longest || 'x', generation },
      deltas,
    );
    const wire = chunks.map(toWireDeltaMessage);
    for (const target of targets) {
      for (const m of wire) {
        await deps.queues.send(DELTA_QUEUE, { ...m, target }, { quiet: true });
        messages++;
      }
    }
    for (const serial of disconnected) {
      await deps.status.recordPush({
        cluster: clusterName,
        target: serial,
        disconnected: true,
        lastError: 'firewall not connected to Panorama; the audit will repair it',
        lastErrorAt: nowIso(),
      });
    }

    const upserts = new Map<string, readonly string[]>();
    const removed: string[] = [];
    for (const d of deltas) {
      const tags = desired.get(d.ip);
      if (tags && tags.length > 0) upserts.set(d.ip, tags);
      else removed.push(d.ip);
    }
    await deps.state.writeIpTags(clusterName, upserts, removed, generation);
    await deps.state.replaceHead({
      ...current,
      generation,
      pendingGeneration: generation,
      leaseOwner: '',
      leaseUntil: '',
      lastRecomputeAt: nowIso(),
      lastRecomputeResult: deleted ? 'deleted' : 'changed',
      lastError: '',
      ipCount: desired.size,
      tagCount: countTags(desired),
      targets,
      ...(deleted ? { deletedAt: nowIso() } : { deletedAt: '' }),
    });
    deps.queues.notify(DELTA_QUEUE);
    const outcome: RecomputeOutcome = {
      ...summarize(clusterName, deltas, desired),
      status: deleted ? 'deleted' : 'changed',
      generation,
      messages,
      targets,
      disconnected,
      deltas,
    };
    log.info('recompute done', {
      generation,
      ips: outcome.ips,
      changedIps: deltas.length,
      registered: outcome.registered,
      unregistered: outcome.unregistered,
      targets: targets.length,
      disconnected: disconnected.length,
      messages,
      durationMs: Date.now() - started,
    });
    return outcome;
  } catch (err) {
    const message = describeError(err);
    log.error('recompute failed', { error: message, kind: classify(err) });
    try {
      const latest = (await deps.state.getHead(clusterName)) ?? current;
      if (latest.leaseOwner === owner) {
        await deps.state.replaceHead({
          ...latest,
          leaseOwner: '',
          leaseUntil: '',
          lastRecomputeResult: 'failed',
          lastError: message,
          lastErrorAt: deps.now().toISOString(),
        });
      }
    } catch {
      // The lease expires on its own; the original error matters more.
    }
    if (classify(err) === FailureKind.permanent) {
      return { ...emptyOutcome(clusterName, 'failed'), error: message };
    }
    throw err;
  }
}

async function desiredTags(cluster: ClusterConfig, deps: PipelineDeps, log: ReturnType<typeof withFields>) {
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
