import { randomUUID } from 'node:crypto';

/** An ARM resource event in the Event Grid schema, as a subscription's system topic delivers it. */
export interface ArmResourceEvent {
  id: string;
  topic: string;
  subject: string;
  eventType: string;
  eventTime: string;
  dataVersion: string;
  metadataVersion: string;
  data: { resourceUri: string; operationName: string; status: string; subscriptionId: string };
}

/** The resource ID of a load balancer (AKS names the internal one `kubernetes-internal`). */
export function loadBalancerResourceId(
  subscriptionId: string,
  resourceGroup: string,
  name = 'kubernetes-internal',
): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Network/loadBalancers/${name}`;
}

/**
 * A `ResourceWriteSuccess` / `ResourceDeleteSuccess` event for `resourceId`, shaped as in the Event
 * Grid documentation (subject = resource ID, `data.operationName` = `<provider>/<type>/<operation>`).
 */
export function armResourceEvent(
  resourceId: string,
  operation: 'write' | 'delete',
  options: { id?: string } = {},
): ArmResourceEvent {
  const parts = resourceId.split('/').filter(Boolean);
  const subscriptionId = parts[1] ?? '';
  const providerAt = parts.findIndex((p) => p.toLowerCase() === 'providers');
  const typePath = parts
    .slice(providerAt + 1)
    .filter((_, i) => i === 0 || i % 2 === 1)
    .join('/');
  return {
    id: options.id ?? randomUUID(),
    topic: `/subscriptions/${subscriptionId}`,
    subject: resourceId,
    eventType:
      operation === 'write'
        ? 'Microsoft.Resources.ResourceWriteSuccess'
        : 'Microsoft.Resources.ResourceDeleteSuccess',
    eventTime: new Date().toISOString(),
    dataVersion: '2',
    metadataVersion: '1',
    data: {
      resourceUri: resourceId,
      operationName: `${typePath}/${operation}`,
      status: 'Succeeded',
      subscriptionId,
    },
  };
}

/**
 * Posts events to a Functions host's Event Grid webhook as Event Grid does
 * (`aeg-event-type: Notification`, a JSON array); throws with the answer on a non-2xx status.
 */
export async function postEventGridEvents(
  hostUrl: string,
  functionName: string,
  events: readonly ArmResourceEvent[],
): Promise<void> {
  const res = await fetch(
    `${hostUrl}/runtime/webhooks/eventgrid?functionName=${encodeURIComponent(functionName)}`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' },
      body: JSON.stringify(events),
    },
  );
  if (!res.ok) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
}
