import { type ClusterConfig, duplicateClusterNames } from '../config/loadConfig.js';
import { ConfigError } from '../errors.js';
import { resourceIdKey } from './parseClusterResourceId.js';

/**
 * Merges the `CLUSTERS` entries with discovered clusters. An explicit entry wins over a discovered
 * cluster with the same resource ID (case-insensitive), taking only its `nodeResourceGroup` when it
 * has none. Throws {@link ConfigError} (from {@link duplicateClusterNames}, naming both resource
 * IDs) when two different clusters share a name.
 */
export function mergeClusters(
  explicit: readonly ClusterConfig[],
  discovered: readonly ClusterConfig[],
): ClusterConfig[] {
  const byId = new Map<string, ClusterConfig>();
  for (const d of discovered) {
    if (d.resourceId && !byId.has(resourceIdKey(d.resourceId))) byId.set(resourceIdKey(d.resourceId), d);
  }
  const merged: ClusterConfig[] = explicit.map((c) => {
    const twin = c.resourceId ? byId.get(resourceIdKey(c.resourceId)) : undefined;
    if (!twin) return c;
    byId.delete(resourceIdKey(c.resourceId ?? ''));
    return !c.nodeResourceGroup && twin.nodeResourceGroup
      ? { ...c, nodeResourceGroup: twin.nodeResourceGroup }
      : c;
  });
  merged.push(...byId.values());
  const problems = duplicateClusterNames(merged);
  if (problems.length > 0) throw new ConfigError(problems);
  return merged;
}
