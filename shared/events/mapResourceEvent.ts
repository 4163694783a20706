import type { ClusterConfig } from '../config/loadConfig.js';

/** What to do with one Event Grid event. */
export type EventMapping =
  | { kind: 'recompute'; cluster: string; deleted: boolean; reason: string }
  | { kind: 'ignored'; reason: string }
  | { kind: 'invalid'; reason: string };

const WRITE = 'microsoft.resources.resourcewritesuccess';
const DELETE = 'microsoft.resources.resourcedeletesuccess';
const ACTION_PREFIX = 'microsoft.resources.resourceaction';

interface ParsedResourceId {
  subscriptionId: string;
  resourceGroup: string;
  provider: string;
  /** Type segments, e.g. ['managedclusters'] or ['managedclusters', 'agentpools']. */
  types: string[];
  /** Name segments matching `types`. */
  names: string[];
}

/** Parses an ARM resource ID case-insensitively (type and provider lower-cased; names kept). */
export function parseResourceId(id: string): ParsedResourceId | undefined {
  const parts = id.split('/').filter((p) => p !== '');
  if (parts.length < 6) return undefined;
  if (parts[0]?.toLowerCase() !== 'subscriptions' || parts[2]?.toLowerCase() !== 'resourcegroups')
    return undefined;
  if (parts[4]?.toLowerCase() !== 'providers') return undefined;
  const [, subscriptionId, , resourceGroup, , provider, ...rest] = parts;
  if (!subscriptionId || !resourceGroup || !provider || rest.length < 2 || rest.length % 2 !== 0)
    return undefined;
  const types: string[] = [];
  const names: string[] = [];
  for (let i = 0; i < rest.length; i += 2) {
    types.push((rest[i] as string).toLowerCase());
    names.push(rest[i + 1] as string);
  }
  return {
    subscriptionId: subscriptionId.toLowerCase(),
    resourceGroup,
    provider: provider.toLowerCase(),
    types,
    names,
  };
}

function sameId(a: string | undefined, b: string): boolean {
  return a !== undefined && a.replace(/\/+$/, '').toLowerCase() === b.replace(/\/+$/, '').toLowerCase();
}

/**
 * Maps an ARM resource event (Event Grid schema, subscription system topic) to the cluster it
 * affects: `managedClusters` write/delete (and their child resources) by resource ID, and
 * `loadBalancers` write/delete in a cluster's node resource group. IDs compare case-insensitively.
 * Action events (such as our own `listClusterUserCredential`) and unknown resources are ignored;
 * anything malformed is `invalid` with a reason. Pure: never throws.
 */
export function mapResourceEvent(event: unknown, clusters: readonly ClusterConfig[]): EventMapping {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    return { kind: 'invalid', reason: 'event is not a JSON object' };
  }
  const e = event as Record<string, unknown>;
  if ('specversion' in e && !('eventType' in e)) {
    return {
      kind: 'invalid',
      reason: 'CloudEvents schema is not supported; subscribe with the Event Grid schema',
    };
  }
  const eventType = e.eventType;
  if (typeof eventType !== 'string' || eventType === '')
    return { kind: 'invalid', reason: 'missing eventType' };
  const type = eventType.toLowerCase();
  if (type.startsWith(ACTION_PREFIX)) return { kind: 'ignored', reason: `action event ${eventType}` };
  if (type !== WRITE && type !== DELETE)
    return { kind: 'ignored', reason: `event type ${eventType} is not handled` };
  const data = e.data;
  if (data !== undefined && (typeof data !== 'object' || data === null || Array.isArray(data))) {
    return { kind: 'invalid', reason: 'data is not an object' };
  }
  const resourceUri = (data as Record<string, unknown> | undefined)?.resourceUri;
  const subject = e.subject;
  const id = typeof resourceUri === 'string' && resourceUri !== '' ? resourceUri : subject;
  if (typeof id !== 'string' || id === '')
    return { kind: 'invalid', reason: 'missing subject and data.resourceUri' };
  if (id.length > 2048) return { kind: 'invalid', reason: 'resource ID longer than 2048 characters' };
  const parsed = parseResourceId(id);
  if (!parsed) return { kind: 'ignored', reason: 'subject is not a resource ID' };
  const deleted = type === DELETE;
  const verb = deleted ? 'delete' : 'write';

  if (parsed.provider === 'microsoft.containerservice' && parsed.types[0] === 'managedclusters') {
    const clusterId = `/subscriptions/${parsed.subscriptionId}/resourceGroups/${parsed.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${parsed.names[0]}`;
    const cluster = clusters.find((c) => sameId(c.resourceId, clusterId));
    if (!cluster) return { kind: 'ignored', reason: 'managed cluster not monitored' };
    const child = parsed.types.length > 1;
    return {
      kind: 'recompute',
      cluster: cluster.name,
      deleted: deleted && !child,
      reason: `managedClusters${child ? `/${parsed.types.slice(1).join('/')}` : ''} ${verb}`,
    };
  }
  if (parsed.provider === 'microsoft.network' && parsed.types[0] === 'loadbalancers') {
    const rg = parsed.resourceGroup.toLowerCase();
    const cluster = clusters.find(
      (c) =>
        c.nodeResourceGroup?.toLowerCase() === rg &&
        (c.subscriptionId === undefined || c.subscriptionId === parsed.subscriptionId),
    );
    if (!cluster) return { kind: 'ignored', reason: 'load balancer not in a monitored node resource group' };
    return {
      kind: 'recompute',
      cluster: cluster.name,
      deleted: false,
      reason: `loadBalancers/${parsed.names[0]} ${verb}`,
    };
  }
  return {
    kind: 'ignored',
    reason: `resource type ${parsed.provider}/${parsed.types.join('/')} is not watched`,
  };
}
