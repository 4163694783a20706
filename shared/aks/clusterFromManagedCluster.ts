import type { ManagedCluster } from '@azure/arm-containerservice';
import type { ClusterConfig } from '../config/loadConfig.js';
import { isClusterName } from '../tags/tagGrammar.js';
import { parseClusterResourceId } from './parseClusterResourceId.js';

/** The fields of an ARM `ManagedCluster` that discovery reads. */
export type ManagedClusterSummary = Pick<
  ManagedCluster,
  'id' | 'name' | 'tags' | 'nodeResourceGroup' | 'aadProfile'
>;

/** Outcome of turning one listed managed cluster into a monitored cluster. */
export type DiscoveredCluster =
  | { kind: 'untagged' }
  | { kind: 'cluster'; cluster: ClusterConfig }
  | { kind: 'invalid'; problem: string };

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const BAD_DEVICE_GROUP = /["'<>&\u0000-\u001f\u007f]|\s{2}/;

/** The value of tag `name` (Azure tag names are case-insensitive), or undefined when absent. */
export function findTagValue(tags: Record<string, string> | undefined, name: string): string | undefined {
  if (!tags) return undefined;
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(tags)) if (k.toLowerCase() === wanted) return v ?? '';
  return undefined;
}

/**
 * Parses a discovery tag value: comma-separated notify device groups (trimmed, de-duplicated; empty
 * = register on Panorama itself). Returns problems for names Panorama cannot hold.
 */
export function deviceGroupsFromTag(value: string): { deviceGroups: string[]; problems: string[] } {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const problems = names
    .filter((n) => n.length > 63 || BAD_DEVICE_GROUP.test(n))
    .map((n) => `device group "${n.slice(0, 70)}" is not a valid Panorama device group name`);
  return { deviceGroups: [...new Set(names)], problems };
}

/**
 * Turns a managed cluster listed in `subscriptionId` into a monitored cluster when it carries the
 * discovery tag: `azureAd` credentials, no label selectors, the tag's device groups, its resource ID
 * and node resource group recorded for event mapping.
 */
export function clusterFromManagedCluster(
  mc: ManagedClusterSummary,
  subscriptionId: string,
  tag: string,
): DiscoveredCluster {
  const value = findTagValue(mc.tags, tag);
  if (value === undefined) return { kind: 'untagged' };
  const parts = mc.id ? parseClusterResourceId(mc.id) : undefined;
  if (!mc.id || !parts)
    return { kind: 'invalid', problem: `managed cluster with unexpected resource ID "${mc.id}"` };
  const name = mc.name ?? parts.name;
  if (!isClusterName(name))
    return { kind: 'invalid', problem: `${mc.id}: cluster name "${name}" is not usable in tags` };
  const { deviceGroups, problems } = deviceGroupsFromTag(value);
  if (problems.length > 0)
    return { kind: 'invalid', problem: `${mc.id}: tag ${tag}: ${problems.join('; ')}` };
  return {
    kind: 'cluster',
    cluster: {
      name,
      subscriptionId: (parts.subscriptionId || subscriptionId).toLowerCase(),
      resourceGroup: parts.resourceGroup,
      ...(mc.nodeResourceGroup ? { nodeResourceGroup: mc.nodeResourceGroup } : {}),
      resourceId: mc.id,
      auth: { type: 'azureAd' },
      labelSelectors: [],
      deviceGroups,
    },
  };
}
