import type { ClusterConfig } from '../config/loadConfig.js';
import { type EventMapping, mapResourceEvent } from '../events/mapResourceEvent.js';
import { enqueueRecompute } from './enqueueRecompute.js';
import type { PipelineDeps } from './PipelineDeps.js';

/**
 * The monitored clusters plus those that only have state left (a discovered cluster that ARM no
 * longer lists once it is deleted): its delete event must still unregister its tags.
 */
async function knownClusters(deps: PipelineDeps): Promise<ClusterConfig[]> {
  const clusters = await deps.clusters.listClusters();
  const names = new Set(clusters.map((c) => c.name.toLowerCase()));
  for (const head of await deps.clusterState.listHeads()) {
    if (names.has(head.cluster.toLowerCase()) || !head.resourceId) continue;
    clusters.push({
      name: head.cluster,
      resourceId: head.resourceId,
      auth: { type: 'azureAd' },
      labelSelectors: [],
      deviceGroups: [],
    });
  }
  return clusters;
}

/**
 * Handles one Event Grid event: maps it to a monitored cluster and enqueues a recompute. Unknown
 * resources are ignored (debug line); malformed events are logged with the reason and dropped —
 * never thrown, since Event Grid would only redeliver the same bad event.
 */
export async function handleResourceEvent(event: unknown, deps: PipelineDeps): Promise<EventMapping> {
  const clusters = await knownClusters(deps);
  const mapping = mapResourceEvent(event, clusters);
  const e = (typeof event === 'object' && event !== null ? event : {}) as {
    id?: unknown;
    subject?: unknown;
    eventType?: unknown;
    eventTime?: unknown;
  };
  const fields = {
    eventId: typeof e.id === 'string' ? e.id.slice(0, 100) : undefined,
    eventType: typeof e.eventType === 'string' ? e.eventType.slice(0, 100) : undefined,
    subject: typeof e.subject === 'string' ? e.subject.slice(0, 300) : undefined,
  };
  if (mapping.kind === 'invalid') {
    deps.logger.error(`event rejected: ${mapping.reason}`, fields);
    return mapping;
  }
  if (mapping.kind === 'ignored') {
    deps.logger.debug(`event ignored: ${mapping.reason}`, fields);
    return mapping;
  }
  const eventTime = validTime(e.eventTime);
  const deleted = mapping.deleted && (await deletionConfirmed(mapping.cluster, clusters, deps, fields));
  await enqueueRecompute(
    deps.queues,
    {
      cluster: mapping.cluster,
      reason: `event: ${mapping.reason}${mapping.deleted && !deleted ? ' (ARM still has the cluster)' : ''}`,
      deleted,
      ...(fields.eventId ? { eventId: fields.eventId } : {}),
      ...(eventTime ? { eventTime } : {}),
    },
    deps.now(),
  );
  deps.logger.info('event: recompute requested', { ...fields, cluster: mapping.cluster, deleted, eventTime });
  return deleted === mapping.deleted ? mapping : { ...mapping, deleted };
}

/** The event's `eventTime` when it is a valid ISO time (else the event is ordered by arrival). */
function validTime(value: unknown): string | undefined {
  return typeof value === 'string' && value.length <= 40 && !Number.isNaN(Date.parse(value))
    ? new Date(Date.parse(value)).toISOString()
    : undefined;
}

/**
 * Before a delete event removes a cluster's tags, ARM must say the cluster is gone: Event Grid
 * redelivers for 24 hours in no guaranteed order, so a stale delete of a live (or re-created)
 * cluster would wipe its policy. When ARM cannot be asked, the delete stands (ordered by its time).
 */
async function deletionConfirmed(
  cluster: string,
  clusters: readonly ClusterConfig[],
  deps: PipelineDeps,
  fields: Record<string, unknown>,
): Promise<boolean> {
  const config = clusters.find((c) => c.name.toLowerCase() === cluster.toLowerCase());
  if (!config) return true;
  const check = await deps.clusters.confirmDeleted(config);
  if (check === 'exists') {
    deps.logger.warn('delete event ignored: ARM still has the cluster (stale or reordered event)', {
      ...fields,
      cluster,
    });
  }
  return check !== 'exists';
}
