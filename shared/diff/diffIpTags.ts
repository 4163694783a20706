import type { IpTagMap } from '../tags/IpTagMap.js';
import type { TagDelta } from './TagDelta.js';

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The minimal change from `last` to `desired`, one {@link TagDelta} per IP whose tags differ:
 * `register` = tags in `desired` but not in `last`, `unregister` = tags in `last` but not in
 * `desired` (an IP missing from `desired` unregisters all its tags). Deltas are sorted by IP and
 * their tag lists sorted, both in code-unit order; unchanged IPs are omitted, so diffing a map with
 * itself gives `[]`. Tag lists need not be sorted or unique on input.
 *
 * @example diffIpTags(new Map([['10.0.0.1', ['a', 'b']]]), new Map([['10.0.0.1', ['b', 'c']]]))
 * // [{ ip: '10.0.0.1', register: ['c'], unregister: ['a'] }]
 */
export function diffIpTags(last: IpTagMap, desired: IpTagMap): TagDelta[] {
  const deltas: TagDelta[] = [];
  for (const [ip, want] of desired) {
    const had = last.get(ip);
    if (had !== undefined && sameList(had, want)) continue;
    if (had === undefined || had.length === 0) {
      if (want.length > 0)
        deltas.push({ ip, register: [...new Set(want)].sort(byCodeUnits), unregister: [] });
      continue;
    }
    const haveSet = new Set(had);
    const wantSet = new Set(want);
    const register: string[] = [];
    const unregister: string[] = [];
    for (const t of wantSet) if (!haveSet.has(t)) register.push(t);
    for (const t of haveSet) if (!wantSet.has(t)) unregister.push(t);
    if (register.length > 0 || unregister.length > 0)
      deltas.push({ ip, register: register.sort(byCodeUnits), unregister: unregister.sort(byCodeUnits) });
  }
  for (const [ip, had] of last) {
    if (desired.has(ip) || had.length === 0) continue;
    deltas.push({ ip, register: [], unregister: [...new Set(had)].sort(byCodeUnits) });
  }
  return deltas.sort((a, b) => byCodeUnits(a.ip, b.ip));
}
