import { OWNED_TAG_PREFIXES } from '../tags/IpTagMap.js';

/**
 * The cluster a tag belongs to, or undefined when the tag is not one of ours: `aks.<cluster>.…` and
 * `aks_<selector>.<cluster>.…`. Cluster names contain no dots, so the segment is exact.
 */
export function ownerClusterOfTag(tag: string): string | undefined {
  if (tag.startsWith('aks.')) {
    const end = tag.indexOf('.', 4);
    return end > 4 ? tag.slice(4, end) : undefined;
  }
  if (tag.startsWith('aks_')) {
    const first = tag.indexOf('.', 4);
    if (first <= 4) return undefined;
    const end = tag.indexOf('.', first + 1);
    return end > first + 1 ? tag.slice(first + 1, end) : undefined;
  }
  return undefined;
}

/** True when `tag` has an owned prefix and belongs to one of `managed` (lower-case cluster names). */
export function isOwnedBy(tag: string, managed: ReadonlySet<string>): boolean {
  if (!OWNED_TAG_PREFIXES.some((p) => tag.startsWith(p))) return false;
  const owner = ownerClusterOfTag(tag);
  return owner !== undefined && managed.has(owner.toLowerCase());
}
