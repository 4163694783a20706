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
  for (const head of await deps.state.listHeads()) {
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
  const mapping = mapResourceEvent(event, await knownClusters(deps));
  const e = (typeof event === 'object' && event !== null ? event : {}) as {
    id?: unknown;
    subject?: unknown;
    eventType?: unknown;
  };
  const fields = {
    eventId: typeof e.id === 'string' ? e.id.slice(0, 100) : undefined,
    eventType: typeof e.eventType === 'string' ? e.eventType.slice(0, 100) : undefined,
    subject: typeof e.subject === 'string' ? e.subject.slice(0, 300) : undefined,
  };
  if (mapping.kind === 'invalid') {
    deps.logger.error(`event rejected: ${mapping.reason}`, fields);
  } else if (mapping.kind === 'ignored') {
    deps.logger.debug(`event ignored: ${mapping.reason}`, fields);
  } else {
    await enqueueRecompute(
      deps.queues,
      {
        cluster: mapping.cluster,
        reason: `event: ${mapping.reason}`,
        deleted: mapping.deleted,
        ...(fields.eventId ? { eventId: fields.eventId } : {}),
      },
      deps.now(),
    );
    deps.logger.info('event: recompute requested', {
      ...fields,
      cluster: mapping.cluster,
      deleted: mapping.deleted,
    });
  }
  return mapping;
}
