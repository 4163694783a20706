/** The parts of a managed cluster's ARM resource ID. */
export interface ClusterResourceIdParts {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

const CLUSTER_ID =
  /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.containerservice\/managedclusters\/([^/]+)\/?$/i;

/**
 * Splits `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}`
 * (any casing, as ARM and Event Grid spell it differently). Returns undefined for anything else.
 */
export function parseClusterResourceId(id: string): ClusterResourceIdParts | undefined {
  const m = CLUSTER_ID.exec(id.trim());
  if (!m?.[1] || !m[2] || !m[3]) return undefined;
  return { subscriptionId: m[1].toLowerCase(), resourceGroup: m[2], name: m[3] };
}

/** The comparison key of an ARM resource ID: ARM IDs are case-insensitive. */
export function resourceIdKey(id: string): string {
  return id.trim().replace(/\/+$/, '').toLowerCase();
}

/** True when both IDs are given and name the same resource (case-insensitively). */
export function sameResourceId(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && resourceIdKey(a) === resourceIdKey(b);
}
