import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ClusterConfig, clusterResourceId } from '../../../shared/config/loadConfig.js';
import { mapResourceEvent } from '../../../shared/events/mapResourceEvent.js';
import type { memoryLogger } from '../../../shared/logger.js';
import { handleResourceEvent } from '../../../shared/pipeline/handleResourceEvent.js';
import { parseRecomputeMessage } from '../../../shared/pipeline/messages.js';
import type { PipelineDeps } from '../../../shared/pipeline/PipelineDeps.js';
import { memoryDeps } from '../../helpers/memoryDeps.js';

/**
 * Hostile Event Grid payloads handed to the event handler directly (docs/architecture.md, invariant 8): each
 * one is rejected with a reason or ignored, nothing throws, and every recompute request that does
 * get enqueued is a message the `cluster-recompute` consumer accepts.
 */

const SUB = '11111111-1111-1111-1111-111111111111';
const OTHER_SUB = '22222222-2222-2222-2222-222222222222';

const CLUSTER: ClusterConfig = {
  name: 'aks-a',
  subscriptionId: SUB,
  resourceGroup: 'rg-aks-a',
  nodeResourceGroup: 'MC_rg-aks-a_aks-a_westeurope',
  resourceId: clusterResourceId(SUB, 'rg-aks-a', 'aks-a'),
  auth: { type: 'azureAd' },
  labelSelectors: [],
  deviceGroups: [],
};

const LB_ID = `/subscriptions/${SUB}/resourceGroups/${CLUSTER.nodeResourceGroup}/providers/Microsoft.Network/loadBalancers/kubernetes-internal`;

function armEvent(subject: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'evt-1',
    topic: `/subscriptions/${SUB}`,
    subject,
    eventType: 'Microsoft.Resources.ResourceWriteSuccess',
    eventTime: '2026-11-27T12:00:00Z',
    dataVersion: '2',
    metadataVersion: '1',
    data: {
      resourceUri: subject,
      operationName: 'Microsoft.Network/loadBalancers/write',
      status: 'Succeeded',
    },
    ...overrides,
  };
}

interface Sent {
  queue: string;
  body: unknown;
}

function fakeDeps(): { deps: PipelineDeps; sent: Sent[]; logs: ReturnType<typeof memoryLogger> } {
  const world = memoryDeps({ clusters: [CLUSTER], now: new Date('2026-11-27T12:00:01Z') });
  const sent: Sent[] = [];
  const send = world.queues.send.bind(world.queues);
  world.queues.send = async (queue, body, options) => {
    sent.push({ queue, body });
    await send(queue, body, options);
  };
  return { deps: world.deps, sent, logs: world.logs };
}

const rejected: [string, unknown, RegExp][] = [
  ['null', null, /not a JSON object/],
  ['a number', 42, /not a JSON object/],
  ['a string', 'Microsoft.Resources.ResourceWriteSuccess', /not a JSON object/],
  ['an array (a batch where one event was expected)', [armEvent(LB_ID)], /not a JSON object/],
  [
    'no eventType',
    (() => {
      const { eventType: _drop, ...e } = armEvent(LB_ID);
      return e;
    })(),
    /missing eventType/,
  ],
  ['a null eventType', armEvent(LB_ID, { eventType: null }), /missing eventType/],
  ['a numeric eventType', armEvent(LB_ID, { eventType: 7 }), /missing eventType/],
  ['an empty eventType', armEvent(LB_ID, { eventType: '' }), /missing eventType/],
  [
    'data as a string',
    armEvent(LB_ID, { data: JSON.stringify({ resourceUri: LB_ID }) }),
    /data is not an object/,
  ],
  ['data as null', armEvent(LB_ID, { data: null }), /data is not an object/],
  ['data as an array', armEvent(LB_ID, { data: [LB_ID] }), /data is not an object/],
  ['no subject and no resourceUri', armEvent('', { subject: undefined, data: {} }), /missing subject/],
  [
    'a numeric subject and resourceUri',
    armEvent('', { subject: 12, data: { resourceUri: 12 } }),
    /missing subject/,
  ],
  ['a 1 MB subject', armEvent(`${LB_ID}/${'x'.repeat(1 << 20)}`), /longer than 2048/],
  [
    'a CloudEvents 1.0 event',
    {
      specversion: '1.0',
      type: 'Microsoft.Resources.ResourceWriteSuccess',
      source: `/subscriptions/${SUB}`,
      id: 'ce-1',
      subject: LB_ID,
      time: '2026-11-27T12:00:00Z',
      data: { resourceUri: LB_ID },
    },
    /CloudEvents schema is not supported/,
  ],
];

const ignored: [string, unknown, RegExp][] = [
  [
    'a managed cluster in another subscription',
    armEvent(clusterResourceId(OTHER_SUB, 'rg-aks-a', 'aks-a')),
    /not monitored/,
  ],
  [
    'a managed cluster in another resource group',
    armEvent(clusterResourceId(SUB, 'rg-other', 'aks-a')),
    /not monitored/,
  ],
  ['an unknown managed cluster', armEvent(clusterResourceId(SUB, 'rg-aks-a', 'aks-zzz')), /not monitored/],
  [
    'a load balancer of another subscription in a same-named node resource group',
    armEvent(LB_ID.replace(SUB, OTHER_SUB)),
    /not in a monitored node resource group/,
  ],
  [
    'a load balancer in another resource group',
    armEvent(LB_ID.replace(CLUSTER.nodeResourceGroup as string, 'rg-elsewhere')),
    /not in a monitored node resource group/,
  ],
  [
    'another provider in the node resource group',
    armEvent(
      `/subscriptions/${SUB}/resourceGroups/${CLUSTER.nodeResourceGroup}/providers/Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1`,
    ),
    /not watched/,
  ],
  [
    'a subject that is not a resource ID',
    armEvent('/blobServices/default/containers/x'),
    /not a resource ID/,
  ],
  ['a subject with path traversal', armEvent('../../etc/passwd'), /not a resource ID/],
  [
    'a SubscriptionValidation event delivered as a notification',
    armEvent('', {
      eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
      data: { validationCode: 'abc' },
    }),
    /not handled/,
  ],
  [
    'an action event (our own credential listing)',
    armEvent(LB_ID, { eventType: 'Microsoft.Resources.ResourceActionSuccess' }),
    /action event/,
  ],
];

describe('hostile Event Grid events through handleResourceEvent', () => {
  it.each(rejected)(
    '%s is rejected with a logged error naming the problem, nothing enqueued',
    async (_what, event, reason) => {
      const { deps, sent, logs } = fakeDeps();
      const mapping = await handleResourceEvent(event, deps);
      expect(mapping.kind).toBe('invalid');
      expect(mapping.kind !== 'recompute' && mapping.reason).toMatch(reason);
      expect(sent).toEqual([]);
      const errors = logs.lines.filter((l) => l.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]?.message).toMatch(/^event rejected: /);
      expect(errors[0]?.message).toMatch(reason);
    },
  );

  it.each(ignored)('%s is ignored with a reason, nothing enqueued', async (_what, event, reason) => {
    const { deps, sent, logs } = fakeDeps();
    const mapping = await handleResourceEvent(event, deps);
    expect(mapping).toMatchObject({ kind: 'ignored' });
    expect(mapping.kind !== 'recompute' && mapping.reason).toMatch(reason);
    expect(sent).toEqual([]);
    expect(logs.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('logs a huge subject cut to a bounded length', async () => {
    const { deps, logs } = fakeDeps();
    await handleResourceEvent(armEvent(`${LB_ID}/${'y'.repeat(1 << 20)}`, { id: 'i'.repeat(5000) }), deps);
    const line = logs.lines.find((l) => l.level === 'error');
    expect(String(line?.fields?.subject).length).toBeLessThanOrEqual(300);
    expect(String(line?.fields?.subject)).toMatch(/^\/subscriptions\//);
    expect(String(line?.fields?.eventId).length).toBeLessThanOrEqual(100);
  });

  it('a JSON "__proto__" key does not smuggle an eventType in', async () => {
    const { deps, sent } = fakeDeps();
    const event = JSON.parse(`{"__proto__": ${JSON.stringify(armEvent(LB_ID))}, "id": "p"}`);
    const mapping = await handleResourceEvent(event, deps);
    expect(mapping).toEqual({ kind: 'invalid', reason: 'missing eventType' });
    expect(sent).toEqual([]);
  });

  it('a good event next to bad ones still requests a valid recompute', async () => {
    const { deps, sent } = fakeDeps();
    for (const [, event] of rejected) await handleResourceEvent(event, deps);
    const mapping = await handleResourceEvent(
      armEvent(LB_ID.toUpperCase().replace(SUB.toUpperCase(), SUB)),
      deps,
    );
    expect(mapping).toMatchObject({ kind: 'recompute', cluster: 'aks-a', deleted: false });
    expect(sent).toHaveLength(1);
    expect(() => parseRecomputeMessage(sent[0]?.body)).not.toThrow();
  });

  // BUG (reported): the mapping's reason carries the load balancer name / child resource path
  // taken from the event subject; the recompute message schema allows 200 characters of reason,
  // so a long (but < 2048 characters) subject yields a message the consumer refuses → poison.
  it('an event with a long but valid-length resource name enqueues a message the consumer accepts', async () => {
    const { deps, sent } = fakeDeps();
    const mapping = await handleResourceEvent(armEvent(`${LB_ID}${'-x'.repeat(300)}`), deps);
    expect(mapping).toMatchObject({ kind: 'recompute', cluster: 'aks-a' });
    expect(sent).toHaveLength(1);
    expect(() => parseRecomputeMessage(sent[0]?.body)).not.toThrow();
  });

  it('a deep managedClusters child path enqueues a message the consumer accepts', async () => {
    const { deps, sent } = fakeDeps();
    const deep = `${CLUSTER.resourceId}${'/agentPools/pool1'.repeat(40)}`;
    const mapping = await handleResourceEvent(armEvent(deep), deps);
    expect(mapping).toMatchObject({ kind: 'recompute', cluster: 'aks-a', deleted: false });
    expect(() => parseRecomputeMessage(sent[0]?.body)).not.toThrow();
  });
});

describe('mapResourceEvent never throws (property)', () => {
  const hostileString = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.constantFrom(LB_ID, CLUSTER.resourceId as string, '', '/', '//', '/subscriptions/'),
    fc.string().map((s) => `${LB_ID}/${s}`),
    fc.string().map((s) => `/subscriptions/${s}/resourceGroups/${s}/providers/${s}/${s}/${s}`),
  );
  const eventType = fc.oneof(
    fc.constantFrom(
      'Microsoft.Resources.ResourceWriteSuccess',
      'microsoft.resources.resourcedeletesuccess',
      'Microsoft.Resources.ResourceActionSuccess',
    ),
    fc.jsonValue(),
  );
  const eventLike = fc.record(
    {
      id: fc.oneof(fc.string(), fc.jsonValue()),
      subject: fc.oneof(hostileString, fc.jsonValue()),
      eventType,
      eventTime: fc.jsonValue(),
      data: fc.oneof(fc.record({ resourceUri: fc.oneof(hostileString, fc.jsonValue()) }), fc.jsonValue()),
      specversion: fc.string(),
    },
    { requiredKeys: [] },
  );

  it('for arbitrary JSON values and event-like objects, and every recompute message is valid', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), eventLike), async (event) => {
        const mapping = mapResourceEvent(event, [CLUSTER]);
        expect(['recompute', 'ignored', 'invalid']).toContain(mapping.kind);
        const { deps, sent } = fakeDeps();
        await handleResourceEvent(event, deps);
        for (const s of sent) parseRecomputeMessage(s.body);
      }),
      { numRuns: 500, seed: 7 },
    );
  });
});
