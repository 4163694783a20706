import { randomUUID } from 'node:crypto';
import { backoffDelay, sleep } from '../backoff.js';
import { classify, describeError, FailureKind } from '../errors.js';
import type { Logger } from '../logger.js';
import { type ClusterHead, ConcurrencyConflictError } from '../state/ClusterStateRepository.js';
import { isLeased } from './clusterHead.js';
import type { PipelineDeps } from './PipelineDeps.js';

/** Lease owners of this process whose invocation is still running. */
const running = new Set<string>();

/** A cluster lease held by one recompute invocation. */
export interface ClusterLease {
  owner: string;
  head: ClusterHead;
  /** True when the lease was taken from an expired or abandoned owner. */
  tookOver: boolean;
}

/**
 * True when this process may take `head`'s lease: nobody holds it, it expired, or an invocation of
 * this very process left it behind (its release failed, e.g. during a storage outage) — waiting
 * for the expiry would freeze the cluster for the lease's length.
 */
function mayTake(head: ClusterHead, instanceId: string, now: Date): boolean {
  if (!isLeased(head, now)) return true;
  const owner = head.leaseOwner ?? '';
  return owner.startsWith(`${instanceId}/`) && !running.has(owner);
}

/**
 * Takes the lease on a cluster's head (ETag-conditional, creating the head on first use). The owner's
 * fence row is created first and the previous owner's fence dropped after, so a recompute that
 * lost its lease can no longer write rows. Returns undefined when another recompute holds it.
 */
export async function acquireClusterLease(
  deps: PipelineDeps,
  cluster: { name: string; resourceId?: string },
): Promise<ClusterLease | undefined> {
  const owner = `${deps.instanceId}/${randomUUID().slice(0, 8)}`;
  running.add(owner);
  let fenced = false;
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = deps.now();
      const head = await deps.clusterState.getHead(cluster.name);
      if (head && !mayTake(head, deps.instanceId, now)) break;
      if (!fenced) await deps.clusterState.createFence(cluster.name, owner);
      fenced = true;
      const leased = {
        leaseOwner: owner,
        leaseUntil: new Date(now.getTime() + deps.leaseSeconds * 1000).toISOString(),
        lastRecomputeStartedAt: now.toISOString(),
      };
      try {
        const taken = head
          ? await deps.clusterState.replaceHead({ ...head, ...leased })
          : await deps.clusterState.createHead(newHead(cluster, leased));
        const previous = head?.leaseOwner;
        if (previous) await deps.clusterState.dropFence(cluster.name, previous);
        return { owner, head: taken, tookOver: !!previous };
      } catch (err) {
        if (!(err instanceof ConcurrencyConflictError)) throw err;
      }
    }
    running.delete(owner);
    if (fenced) await deps.clusterState.dropFence(cluster.name, owner);
    return undefined;
  } catch (err) {
    running.delete(owner);
    throw err;
  }
}

function newHead(
  cluster: { name: string; resourceId?: string },
  leased: Pick<ClusterHead, 'leaseOwner' | 'leaseUntil' | 'lastRecomputeStartedAt'>,
): Omit<ClusterHead, 'etag'> {
  return {
    cluster: cluster.name,
    generation: 0,
    pendingGeneration: 0,
    ipCount: 0,
    tagCount: 0,
    targets: [],
    retiringTargets: [],
    heldRemovals: 0,
    holdBasePairs: 0,
    ipsOverBudget: 0,
    ...(cluster.resourceId ? { resourceId: cluster.resourceId } : {}),
    ...leased,
  };
}

/** Retries of a lease release after a failure: 0.25 s, 0.5 s … 15 s, about 30 s in all. */
const RELEASE_RETRIES = 7;
const RELEASE_BACKOFF = { baseMs: 250, maxMs: 15_000 };

/**
 * Marks the invocation finished and, after a failure, releases the lease with the failure recorded
 * — retrying while storage is unreachable, so a short outage does not freeze the cluster until the
 * lease expires. If the release still fails, this process may reclaim the lease at once (the owner
 * is no longer running) and other processes after its expiry.
 */
export async function releaseFailedLease(
  deps: PipelineDeps,
  lease: ClusterLease,
  failure: { error: string },
  log: Logger,
  delay: (ms: number) => Promise<void> = sleep,
): Promise<void> {
  const cluster = lease.head.cluster;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        const latest = (await deps.clusterState.getHead(cluster)) ?? lease.head;
        if (latest.leaseOwner === lease.owner) {
          await deps.clusterState.replaceHead({
            ...latest,
            leaseOwner: '',
            leaseUntil: '',
            lastRecomputeResult: 'failed',
            lastError: failure.error,
            lastErrorAt: deps.now().toISOString(),
          });
        }
        await deps.clusterState.dropFence(cluster, lease.owner);
        return;
      } catch (err) {
        if (attempt >= RELEASE_RETRIES || classify(err) !== FailureKind.retryable) {
          log.warn('lease not released; this instance reclaims it at once, others once it expires', {
            error: describeError(err),
          });
          return;
        }
        await delay(backoffDelay(attempt + 1, RELEASE_BACKOFF));
      }
    }
  } finally {
    running.delete(lease.owner);
  }
}

/** Marks the invocation of a lease finished after a successful commit (the commit released it). */
export async function endClusterLease(deps: PipelineDeps, lease: ClusterLease): Promise<void> {
  running.delete(lease.owner);
  try {
    await deps.clusterState.dropFence(lease.head.cluster, lease.owner);
  } catch {
    // A fence left behind is dropped by the next owner; rows starting with `_` are never read as IPs.
  }
}
