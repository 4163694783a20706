import type { ClusterConfig } from '../config/loadConfig.js';
import { sameResourceId } from './parseClusterResourceId.js';

/** The cluster whose ARM resource ID is `resourceId` (case-insensitive), if any. */
export function findClusterByResourceId(
  clusters: readonly ClusterConfig[],
  resourceId: string,
): ClusterConfig | undefined {
  return clusters.find((c) => sameResourceId(c.resourceId, resourceId));
}

/**
 * The cluster whose node resource group (`MC_…`) is `nodeResourceGroup` in `subscriptionId`
 * (both case-insensitive): how load-balancer events of `kubernetes-internal` map to a cluster.
 */
export function findClusterByNodeResourceGroup(
  clusters: readonly ClusterConfig[],
  subscriptionId: string,
  nodeResourceGroup: string,
): ClusterConfig | undefined {
  const sub = subscriptionId.toLowerCase();
  const rg = nodeResourceGroup.toLowerCase();
  return clusters.find(
    (c) => c.subscriptionId?.toLowerCase() === sub && c.nodeResourceGroup?.toLowerCase() === rg,
  );
}
