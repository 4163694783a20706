import { diffIpTags } from '../diff/diffIpTags.js';
import type { TagDelta } from '../diff/TagDelta.js';
import type { IpTagMap } from '../tags/IpTagMap.js';
import {
  countPairs,
  judgeRemovals,
  keepRemovedPairs,
  type RemovalGuard,
  type RemovalVerdict,
  type SyncPolicy,
  withoutRemovals,
} from './removalGuard.js';

/** What a recompute commits and sends. */
export interface RecomputePlan {
  /** The state to commit. */
  desired: IpTagMap;
  /** How the state changes (the rows to write). */
  deltas: TagDelta[];
  /** What goes to the targets: `deltas`, without unregistrations under `upsert-only`. */
  send: TagDelta[];
  /** Set when the removal guard holds this recompute's removals. */
  hold?: RemovalVerdict;
}

/** How removals are treated in one recompute. */
export interface RemovalRules {
  policy: SyncPolicy;
  guard: RemovalGuard;
  /**
   * False for what the guard must never stop: a confirmed cluster delete, and a recompute whose
   * removals were approved (`reconcile --allow-removals`).
   */
  guarded: boolean;
  /**
   * The committed pairs when the cluster's current hold began (0: no hold). While a hold lasts,
   * removals are judged against it: the registrations committed during the hold must not dilute
   * the held removals below the thresholds.
   */
  holdBase: number;
  /** The cluster, named in the hold's reason (what to run to apply it). */
  cluster?: string;
}

/**
 * Plans a recompute from the committed state `last` and the `desired` tags. When the removal guard
 * holds, the removed pairs stay in the committed state (registrations still go through), so the next
 * recompute finds them again (judged against the pairs committed before the hold, `holdBase`); under `upsert-only` the state follows `desired` but nothing is
 * unregistered. Pure.
 */
export function planRecompute(last: IpTagMap, desired: IpTagMap, rules: RemovalRules): RecomputePlan {
  let deltas = diffIpTags(last, desired);
  let committed = desired;
  let hold: RemovalVerdict | undefined;
  if (rules.guarded && rules.policy !== 'upsert-only') {
    const verdict = judgeRemovals(deltas, rules.holdBase || countPairs(last), rules.guard, rules.cluster);
    if (verdict.held) {
      hold = verdict;
      committed = keepRemovedPairs(last, desired);
      deltas = diffIpTags(last, committed);
    }
  }
  const send = rules.policy === 'upsert-only' ? withoutRemovals(deltas) : deltas;
  return { desired: committed, deltas, send, ...(hold ? { hold } : {}) };
}
