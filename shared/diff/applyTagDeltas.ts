import type { IpTagMap } from '../tags/IpTagMap.js';
import type { TagDelta } from './TagDelta.js';

/**
 * Applies `deltas` to `map` and returns a new map (the input is not changed): each delta removes
 * its `unregister` tags from its IP, then adds its `register` tags. Tags stay unique and sorted in
 * code-unit order; IPs left without tags are removed; IPs are in code-unit order.
 * `applyTagDeltas(last, diffIpTags(last, desired))` equals `desired` (for sorted, unique input).
 */
export function applyTagDeltas(map: IpTagMap, deltas: readonly TagDelta[]): IpTagMap {
  const sets = new Map<string, Set<string>>();
  for (const [ip, tags] of map) sets.set(ip, new Set(tags));
  for (const d of deltas) {
    let set = sets.get(d.ip);
    if (set === undefined) {
      set = new Set();
      sets.set(d.ip, set);
    }
    for (const t of d.unregister) set.delete(t);
    for (const t of d.register) set.add(t);
  }
  const out = new Map<string, readonly string[]>();
  for (const ip of [...sets.keys()].sort()) {
    const set = sets.get(ip) as Set<string>;
    if (set.size > 0) out.set(ip, [...set].sort());
  }
  return out;
}
