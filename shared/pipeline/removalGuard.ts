import type { TagDelta } from '../diff/TagDelta.js';
import type { IpTagMap } from '../tags/IpTagMap.js';

/**
 * The removal guard's thresholds: a recompute that would unregister at least `percent` percent and
 * at least `min` of a cluster's committed (ip, tag) pairs is held. `percent` 0 turns it off.
 */
export interface RemovalGuard {
  percent: number;
  min: number;
}

/** `sync`: register and unregister; `upsert-only`: never unregister anything (audit included). */
export type SyncPolicy = 'sync' | 'upsert-only';

/** The default guard: half of the committed pairs, and at least 20 of them. */
export const DEFAULT_REMOVAL_GUARD: RemovalGuard = { percent: 50, min: 20 };

/** What the guard says of one recompute's removals. */
export interface RemovalVerdict {
  held: boolean;
  /** (ip, tag) pairs the recompute would unregister. */
  removals: number;
  /** (ip, tag) pairs of the committed state. */
  committedPairs: number;
  /** One line for logs and `status` when held: counts, thresholds and how to apply them. */
  reason?: string;
}

/** Counts the (ip, tag) pairs of a map. */
export function countPairs(map: IpTagMap): number {
  let n = 0;
  for (const tags of map.values()) n += tags.length;
  return n;
}

/**
 * Judges the removals of `deltas` against the committed state's `committedPairs`: held when they
 * reach both thresholds of `guard` (a `percent` of 0 never holds).
 */
export function judgeRemovals(
  deltas: readonly TagDelta[],
  committedPairs: number,
  guard: RemovalGuard,
  cluster = '<name>',
): RemovalVerdict {
  const removals = deltas.reduce((n, d) => n + d.unregister.length, 0);
  const held =
    guard.percent > 0 &&
    committedPairs > 0 &&
    removals >= guard.min &&
    removals * 100 >= guard.percent * committedPairs;
  if (!held) return { held, removals, committedPairs };
  const share = Math.round((removals * 100) / committedPairs);
  return {
    held,
    removals,
    committedPairs,
    reason:
      `removal guard: ${removals} of ${committedPairs} committed tag assignments (${share}%) would be unregistered ` +
      `(thresholds REMOVAL_GUARD_PERCENT=${guard.percent}, REMOVAL_GUARD_MIN=${guard.min}); registrations go through, removals are held. ` +
      `If the change is intended, run "aks-panorama-sync reconcile --cluster ${cluster} --allow-removals"; ` +
      'if not, fix the cause (a selector typo, a failing Service list, a label change)',
  };
}

/**
 * The state a held recompute commits: every IP's desired tags plus the last-known tags it would
 * have lost, so the removals stay pending and the next recompute finds them again.
 */
export function keepRemovedPairs(last: IpTagMap, desired: IpTagMap): IpTagMap {
  const kept = new Map(desired);
  for (const [ip, had] of last) {
    const want = desired.get(ip);
    if (!want) {
      kept.set(ip, had);
      continue;
    }
    if (had.every((t) => want.includes(t))) continue;
    kept.set(ip, [...new Set([...want, ...had])].sort(byCodeUnits));
  }
  return kept;
}

/** The deltas with every unregistration left out (`upsert-only`); deltas left empty are dropped. */
export function withoutRemovals(deltas: readonly TagDelta[]): TagDelta[] {
  return deltas.filter((d) => d.register.length > 0).map((d) => ({ ...d, unregister: [] }));
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
