import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalHost } from '../../../host/startLocalHost.js';
import { defineEventGridFunction } from '../../../shared/functionSpecs.js';
import { handleResourceEvent } from '../../../shared/pipeline/handleResourceEvent.js';
import { RECOMPUTE_QUEUE } from '../../../shared/queues/queueNames.js';
import {
  internalService,
  nodeResourceGroup,
  type PipelineWorld,
  registeredObject,
  SUBSCRIPTION,
  startPipelineWorld,
} from '../../helpers/pipelineWorld.js';
import { quietly, startTestHost } from '../host/hostTestKit.js';

/**
 * Malformed, truncated, foreign and wrong-schema Event Grid deliveries posted to the local host's
 * webhook, whose `onResourceEvent` runs the real event handler on the pipeline world: each gets a
 * clear answer naming what was wrong (or is ignored with a reason), the host keeps serving, and a
 * good event still brings its tags to the Panorama simulator.
 */

const CLUSTER = 'aks-w';
const OTHER_SUB = '22222222-2222-2222-2222-222222222222';
const LB_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${nodeResourceGroup(CLUSTER)}/providers/Microsoft.Network/loadBalancers/kubernetes-internal`;

let seq = 0;
function armEvent(subject = LB_ID, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  seq += 1;
  return {
    id: `evt-${seq}`,
    topic: `/subscriptions/${SUBSCRIPTION}`,
    subject,
    eventType: 'Microsoft.Resources.ResourceWriteSuccess',
    eventTime: new Date().toISOString(),
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

let world: PipelineWorld;
let host: LocalHost;
let webhook: string;

beforeAll(async () => {
  world = await startPipelineWorld({
    clusters: [{ name: CLUSTER, services: [internalService('shop', 'web', ['10.5.0.1'], { app: 'web' })] }],
  });
  const specs = quietly(() => [
    defineEventGridFunction({
      name: 'onResourceEvent',
      handler: async (event) => {
        await handleResourceEvent(event, world.deps);
      },
    }),
  ]);
  host = await startTestHost(specs, { settings: { AzureWebJobsStorage: world.azurite.connectionString } });
  webhook = `${host.url}/runtime/webhooks/eventgrid?functionName=onResourceEvent`;
}, 120_000);

afterAll(async () => {
  await host?.stop();
  await world?.stop();
});

beforeEach(async () => {
  await world.drainRecomputes();
  await world.drainDeltas();
});

function post(body: string | Buffer, eventType: string | null = 'Notification'): Promise<Response> {
  return fetch(webhook, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(eventType === null ? {} : { 'aeg-event-type': eventType }),
    },
    body,
  });
}

const recomputesQueued = () => world.deps.queues.depth(RECOMPUTE_QUEUE);

async function expectHostAlive(): Promise<void> {
  const res = await fetch(`${host.url}/`);
  expect(res.status).toBe(200);
}

describe('malformed deliveries get 400 naming the problem, and nothing runs', () => {
  const cases: [string, string | Buffer, RegExp][] = [
    ['invalid JSON', '{events: [}', /not valid JSON/],
    ['truncated JSON', JSON.stringify([armEvent(), armEvent()]).slice(0, 150), /not valid JSON/],
    ['an empty body', '', /not valid JSON/],
    ['invalid UTF-8', Buffer.from([0x5b, 0xff, 0xfe, 0x5d]), /not valid JSON/],
    [
      'a JSON string',
      '"Microsoft.Resources.ResourceWriteSuccess"',
      /must be a JSON array of Event Grid events/,
    ],
    ['a JSON number', '42', /must be a JSON array/],
    ['JSON null', 'null', /must be a JSON array/],
    ['an empty array', '[]', /empty array/],
    ['an array of non-objects', '[1, "two", null]', /event \[0\] is not a JSON object/],
    ['an object that is not an event', '{"hello": "world"}', /event \[0\] has no string "id"/],
    [
      'a missing subject',
      JSON.stringify([armEvent(LB_ID, { subject: undefined })]),
      /event \[0\] has no string "subject"/,
    ],
    [
      'a null eventType',
      JSON.stringify([armEvent(LB_ID, { eventType: null })]),
      /event \[0\] has no string "eventType"/,
    ],
    ['a numeric id', JSON.stringify([armEvent(LB_ID, { id: 7 })]), /event \[0\] has no string "id"/],
    [
      'an eventTime object',
      JSON.stringify([armEvent(LB_ID, { eventTime: {} })]),
      /event \[0\] has no string "eventTime"/,
    ],
    ['no data at all', JSON.stringify([armEvent(LB_ID, { data: undefined })]), /event \[0\] has no "data"/],
    [
      'a CloudEvents 1.0 batch',
      JSON.stringify([
        {
          specversion: '1.0',
          type: 'Microsoft.Resources.ResourceWriteSuccess',
          source: `/subscriptions/${SUBSCRIPTION}`,
          id: 'ce-1',
          subject: LB_ID,
          time: new Date().toISOString(),
          data: { resourceUri: LB_ID },
        },
      ]),
      /has no string "eventType" \(Event Grid schema\)/,
    ],
  ];

  it.each(cases)('%s', async (_what, body, reason) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toMatch(reason);
    expect(text).not.toContain('\n    at ');
    expect(await recomputesQueued()).toBe(0);
    await expectHostAlive();
  });

  it('a missing aeg-event-type header is refused naming the header', async () => {
    const res = await post(JSON.stringify([armEvent()]), null);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/aeg-event-type header must be Notification/);
    expect(await recomputesQueued()).toBe(0);
  });

  it('a body over the size limit is refused with 413 and the host keeps serving', async () => {
    const res = await post(Buffer.alloc(11 * 1024 * 1024, 0x20)).catch((err: Error) => err);
    if (res instanceof Response) expect(res.status).toBe(413);
    else expect(res.message).toMatch(/fetch failed|socket|reset|closed/i);
    await expectHostAlive();
    expect(await recomputesQueued()).toBe(0);
  });

  it('an OPTIONS abuse-protection handshake (CloudEvents webhooks) is refused clearly', async () => {
    const res = await fetch(webhook, {
      method: 'OPTIONS',
      headers: { 'WebHook-Request-Origin': 'eventgrid.azure.net' },
    });
    expect(res.status).toBe(405);
    expect(await res.text()).toMatch(/accepts POST only/);
  });
});

describe('well-formed events the handler rejects or ignores: 202, a logged reason, no recompute', () => {
  const cases: [string, Record<string, unknown>, 'error' | 'debug', RegExp][] = [
    [
      'data as a string',
      armEvent(LB_ID, { data: JSON.stringify({ resourceUri: LB_ID }) }),
      'error',
      /data is not an object/,
    ],
    ['data as null', armEvent(LB_ID, { data: null }), 'error', /data is not an object/],
    [
      'a 1 MB subject',
      armEvent(`${LB_ID}/${'s'.repeat(1 << 20)}`, { data: {} }),
      'error',
      /longer than 2048/,
    ],
    [
      'a managed cluster of another subscription',
      armEvent(
        `/subscriptions/${OTHER_SUB}/resourceGroups/rg-${CLUSTER}/providers/Microsoft.ContainerService/managedClusters/${CLUSTER}`,
      ),
      'debug',
      /managed cluster not monitored/,
    ],
    [
      'a load balancer in another resource group',
      armEvent(LB_ID.replace(nodeResourceGroup(CLUSTER), 'rg-foreign')),
      'debug',
      /not in a monitored node resource group/,
    ],
    [
      'a load balancer of another subscription',
      armEvent(LB_ID.replace(SUBSCRIPTION, OTHER_SUB)),
      'debug',
      /not in a monitored node resource group/,
    ],
    [
      'another provider',
      armEvent(
        `/subscriptions/${SUBSCRIPTION}/resourceGroups/${nodeResourceGroup(CLUSTER)}/providers/Microsoft.Storage/storageAccounts/x`,
      ),
      'debug',
      /not watched/,
    ],
    ['a subject that is not a resource ID', armEvent('hello'), 'debug', /not a resource ID/],
    [
      'a SubscriptionValidationEvent sent as a Notification',
      armEvent('x', {
        eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
        data: { validationCode: 'c' },
      }),
      'debug',
      /not handled/,
    ],
  ];

  it.each(cases)('%s', async (_what, event, level, reason) => {
    const before = world.logs.lines.length;
    const res = await post(JSON.stringify([event]));
    expect(res.status).toBe(202);
    expect(await recomputesQueued()).toBe(0);
    const lines = world.logs.lines.slice(before).filter((l) => l.level === level && reason.test(l.message));
    expect(lines).toHaveLength(1);
    expect(lines[0]?.fields?.eventId).toBe(event.id);
    await expectHostAlive();
  });
});

describe('SubscriptionValidation handshakes', () => {
  const validation = (data: unknown) => [
    {
      id: 'v-1',
      topic: `/subscriptions/${SUBSCRIPTION}`,
      subject: '',
      eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
      eventTime: new Date().toISOString(),
      data,
      dataVersion: '1',
      metadataVersion: '1',
    },
  ];

  it('a valid handshake is answered with the code', async () => {
    const res = await post(
      JSON.stringify(validation({ validationCode: 'code-1' })),
      'SubscriptionValidation',
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ validationResponse: 'code-1' });
  });

  it.each([
    ['no validationCode', validation({})],
    ['a numeric validationCode', validation({ validationCode: 5 })],
    ['data as a string', validation(JSON.stringify({ validationCode: 'code-2' }))],
    ['an empty array', []],
    ['null', null],
  ])('%s gets 400 naming data.validationCode', async (_what, body) => {
    const res = await post(JSON.stringify(body), 'SubscriptionValidation');
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/data\.validationCode/);
  });

  it('a truncated handshake gets 400 (not valid JSON)', async () => {
    const res = await post(
      JSON.stringify(validation({ validationCode: 'c' })).slice(0, 40),
      'SubscriptionValidation',
    );
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/not valid JSON/);
  });
});

describe('good events still go through', () => {
  it('a single event object (not an array) is delivered and its tags reach Panorama', async () => {
    world.kube.get(CLUSTER)?.addService(internalService('shop', 'api', ['10.5.0.2'], { app: 'api' }));
    const res = await post(JSON.stringify(armEvent()));
    expect(res.status).toBe(202);
    expect(await recomputesQueued()).toBe(1);
    await world.settle();
    expect(registeredObject(world.panorama)['10.5.0.2']).toEqual(['aks.aks-w.api', 'aks.aks-w.svc.app.api']);
  });

  it('a batch of rejected, ignored and good events: 202, and only the good one requests a recompute', async () => {
    const batch = [
      armEvent(LB_ID, { data: 'not an object' }),
      armEvent('hello'),
      armEvent(LB_ID.replace(SUBSCRIPTION, OTHER_SUB)),
      armEvent(),
    ];
    const res = await post(JSON.stringify(batch));
    expect(res.status).toBe(202);
    expect(await recomputesQueued()).toBe(1);
  });

  // BUG (reported, not fixed): the local host checks the whole batch before invoking anything and
  // answers 400 when any one event lacks an Event Grid schema field, so the good events of the
  // batch are never delivered (Event Grid does not retry a 400: they are dropped or dead-lettered).
  // The Functions host invokes the function per event; malformed ones should be logged and skipped.
  it('an array with one malformed and one good event still requests a recompute for the good one', async () => {
    world.kube.get(CLUSTER)?.addService(internalService('shop', 'mixed', ['10.5.0.3']));
    const { subject: _drop, ...noSubject } = armEvent();
    const res = await post(JSON.stringify([noSubject, armEvent()]));
    expect(res.status).toBeLessThan(500);
    expect(await recomputesQueued()).toBe(1);
    await world.settle();
    expect(registeredObject(world.panorama)['10.5.0.3']).toEqual(['aks.aks-w.mixed']);
  });
});
