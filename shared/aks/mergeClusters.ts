import { type ClusterConfig, duplicateClusterNames } from '../config/loadConfig.js';
import { ConfigError } from '../errors.js';
import { resourceIdKey } from './parseClusterResourceId.js';

/** What a discovered cluster takes from the app settings, having no `CLUSTERS` entry of its own. */
export interface DiscoveredClusterDefaults {
  /** `MAX_TAGS_PER_IP` (`AppConfig.maxTagsPerIp`); absent = the engine's default of 32. */
  maxTagsPerIp?: number;
}

function withDefaults(cluster: ClusterConfig, defaults: DiscoveredClusterDefaults): ClusterConfig {
  return cluster.maxTagsPerIp === undefined && defaults.maxTagsPerIp !== undefined
    ? { ...cluster, maxTagsPerIp: defaults.maxTagsPerIp }
    : cluster;
}

/**
 * Merges the `CLUSTERS` entries with discovered clusters. An explicit entry wins over a discovered
 * cluster with the same resource ID (case-insensitive) with all its fields (selectors, label
 * filter, namespace tags, tag budget, device groups), taking only the discovered
 * `nodeResourceGroup` when it has none. Other discovered clusters get `defaults` (no label filter,
 * no namespace tags). Throws {@link ConfigError} (from {@link duplicateClusterNames}, naming both
 * resource IDs) when two different clusters share a name.
 */
export function mergeClusters(
  explicit: readonly ClusterConfig[],
  discovered: readonly ClusterConfig[],
  defaults: DiscoveredClusterDefaults = {},
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
  for (const d of byId.values()) merged.push(withDefaults(d, defaults));
  const problems = duplicateClusterNames(merged);
  if (problems.length > 0) throw new ConfigError(problems);
  return merged;
}
