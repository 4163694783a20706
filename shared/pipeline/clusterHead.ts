import type { ClusterHead } from '../state/ClusterStateRepository.js';
import type { RecomputeMessage } from './messages.js';

/** Clock-skew margin: a recompute must have started this long after a request to cover it. */
export const COVER_MARGIN_MS = 2000;

/** True while a recompute holds the cluster's lease. */
export function isLeased(head: ClusterHead | undefined, now: Date): boolean {
  return !!head?.leaseOwner && !!head.leaseUntil && Date.parse(head.leaseUntil) > now.getTime();
}

/**
 * True once a recompute of the cluster has committed (changed or not): only then does the state say
 * which tags the cluster owns. A head the lease created for a first recompute that has not finished
 * (slow, or failing on a 403) holds no state, and the audit must not read it as "no tags".
 */
export function hasCommittedState(head: ClusterHead | undefined): boolean {
  return !!head && (head.generation > 0 || !!head.syncedFrom || !!head.lastRecomputeAt);
}

/**
 * True when a committed recompute that started after the request already did what it asks (burst
 * coalescing). A running or failed recompute covers nothing; a delete request is covered only by a
 * committed delete.
 */
export function covers(head: ClusterHead | undefined, request: RecomputeMessage): boolean {
  if (!head?.syncedFrom) return false;
  if (!(Date.parse(head.syncedFrom) > Date.parse(request.requestedAt) + COVER_MARGIN_MS)) return false;
  return request.deleted !== true || !!head.deletedAt;
}

/**
 * True when a delete request must be treated as a plain recompute: a write event newer than the
 * delete event was acted on already (Event Grid redelivers for 24 h in no guaranteed order).
 */
export function isStaleDelete(head: ClusterHead | undefined, request: RecomputeMessage): boolean {
  if (request.deleted !== true || !request.eventTime || !head?.lastWriteEventAt) return false;
  return Date.parse(request.eventTime) < Date.parse(head.lastWriteEventAt);
}

/** The newest write-event time a commit records (unchanged by deletes and timer requests). */
export function nextWriteEventAt(head: ClusterHead, request: RecomputeMessage): string | undefined {
  if (request.deleted || !request.eventTime) return head.lastWriteEventAt;
  if (!head.lastWriteEventAt) return request.eventTime;
  return Date.parse(request.eventTime) > Date.parse(head.lastWriteEventAt)
    ? request.eventTime
    : head.lastWriteEventAt;
}

/** Where a cluster's tags go now, as resolved from its device groups. */
export interface ResolvedTargets {
  targets: readonly string[];
  disconnected: readonly string[];
}

/** The result of {@link planRetirement}. */
export interface RetirementPlan {
  /** Targets whose owned tags of the cluster must go (the cluster no longer uses them). */
  retiring: string[];
  /** Set when a mass removal was held: the device groups resolved to no firewall at all. */
  held?: string;
}

/**
 * Which targets a cluster has left: those it pushed to before (`head.targets`) or was already
 * retiring, that are neither a target nor a disconnected member now. A resolution with no firewall
 * at all is held (a typo in a device-group name, or Panorama answering with an empty list, must
 * not wipe every firewall).
 */
export function planRetirement(head: ClusterHead, resolved: ResolvedTargets): RetirementPlan {
  const now = new Set([...resolved.targets, ...resolved.disconnected]);
  const retiring = [...new Set(head.retiringTargets)].filter((t) => !now.has(t));
  const leaving = [...new Set(head.targets)].filter((t) => !now.has(t) && !retiring.includes(t));
  if (now.size === 0 && leaving.length > 0) {
    return {
      retiring: retiring.sort(),
      held: `the device groups resolve to no firewall; removal from ${leaving.length} targets is held (check the cluster's deviceGroups against Panorama's device-group names)`,
    };
  }
  return { retiring: [...retiring, ...leaving].sort() };
}
