import type { EventGridEvent, HttpResponseInit } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalHost } from '../../../host/startLocalHost.js';
import { defineEventGridFunction, defineHttpFunction } from '../../../shared/functionSpecs.js';
import { quietly, startTestHost } from './hostTestKit.js';

const received: EventGridEvent[] = [];
const FAILING_SUBJECT =
  '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/boom';

const specs = quietly(() => [
  defineEventGridFunction({
    name: 'onResourceEvent',
    handler: async (event) => {
      if (event.subject === FAILING_SUBJECT) throw new Error('cannot map event');
      received.push(event);
    },
  }),
  defineHttpFunction({
    name: 'replayPoison',
    route: 'admin/replay/{queue}',
    methods: ['POST'],
    authLevel: 'function',
    handler: async (request, context) => ({
      status: 202,
      headers: { 'x-invocation': context.invocationId },
      jsonBody: {
        queue: request.params.queue,
        dryRun: request.query.get('dryRun'),
        body: await request.json(),
      },
    }),
  }),
  defineHttpFunction({
    name: 'health',
    route: 'health',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: async () => ({ body: 'ok' }),
  }),
  defineHttpFunction({
    name: 'broken',
    route: 'broken',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: async () => {
      throw new Error('secret internals');
    },
  }),
  defineHttpFunction({
    name: 'nothing',
    route: 'nothing',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: async () => undefined as unknown as HttpResponseInit,
  }),
  defineHttpFunction({
    name: 'hostAdmin',
    route: 'ops/reset',
    methods: ['POST'],
    authLevel: 'admin',
    handler: async () => ({ status: 204 }),
  }),
]);

function armEvent(
  id: string,
  subject = '/subscriptions/s/resourceGroups/rg/providers/x/y/aks-1',
): EventGridEvent {
  return {
    id,
    topic: '/subscriptions/s',
    subject,
    eventType: 'Microsoft.Resources.ResourceWriteSuccess',
    eventTime: '2026-11-27T12:00:00.0000000Z',
    data: { resourceUri: subject, operationName: 'Microsoft.ContainerService/managedClusters/write' },
    dataVersion: '2',
    metadataVersion: '1',
  };
}

let host: LocalHost;
let webhook: string;

beforeAll(async () => {
  host = await startTestHost(specs);
  webhook = `${host.url}/runtime/webhooks/eventgrid?functionName=onResourceEvent`;
});

afterAll(async () => {
  await host?.stop();
});

function post(url: string, body: string, eventType = 'Notification'): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'aeg-event-type': eventType, 'content-type': 'application/json' },
    body,
  });
}

describe('Event Grid webhook', () => {
  it('invokes the function once per event of the array and answers 202', async () => {
    received.length = 0;
    const events = [armEvent('e-1'), armEvent('e-2'), armEvent('e-3')];
    const res = await post(webhook, JSON.stringify(events));
    expect(res.status).toBe(202);
    expect(received.map((e) => e.id).sort()).toEqual(['e-1', 'e-2', 'e-3']);
    expect(received[0]).toEqual(events.find((e) => e.id === received[0]?.id));
  });

  it('answers the SubscriptionValidation handshake with the validation code', async () => {
    const validation = [
      {
        id: 'v-1',
        topic: '/subscriptions/s',
        subject: '',
        eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
        eventTime: '2026-11-27T12:00:00Z',
        data: {
          validationCode: '512d38b6-c7b8-40c8-89fe-f46f9e9622b6',
          validationUrl: 'https://example.invalid',
        },
        dataVersion: '1',
        metadataVersion: '1',
      },
    ];
    const res = await post(webhook, JSON.stringify(validation), 'SubscriptionValidation');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ validationResponse: '512d38b6-c7b8-40c8-89fe-f46f9e9622b6' });
  });

  it('rejects a body that is not JSON with 400 and the reason', async () => {
    const res = await post(webhook, '[{"id": "e-1",');
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/not valid JSON/);
  });

  it('skips an event without the Event Grid schema fields and still delivers the good ones', async () => {
    received.length = 0;
    const { eventType: _dropped, ...noType } = armEvent('e-9');
    const res = await post(webhook, JSON.stringify([armEvent('e-8'), noType]));
    expect(res.status).toBe(202);
    expect(received.map((e) => e.id)).toEqual(['e-8']);
  });

  it('rejects a batch without any usable event with 400 naming the field', async () => {
    received.length = 0;
    const { eventType: _dropped, ...noType } = armEvent('e-9');
    const res = await post(webhook, JSON.stringify([noType]));
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/event \[0\] has no string "eventType"/);
    expect(received).toEqual([]);
  });

  it('rejects a missing or unknown aeg-event-type header with 400', async () => {
    const res = await post(webhook, JSON.stringify([armEvent('e-1')]), 'Whatever');
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/aeg-event-type/);
  });

  it('answers 404 for an unknown function, as the host does', async () => {
    const res = await post(`${host.url}/runtime/webhooks/eventgrid?functionName=nope`, JSON.stringify([]));
    expect(res.status).toBe(404);
    expect(await res.text()).toBe("cannot find function: 'nope'");
  });

  it('answers 500 when the handler throws for any event, so Event Grid redelivers', async () => {
    const res = await post(webhook, JSON.stringify([armEvent('ok-1'), armEvent('bad-1', FAILING_SUBJECT)]));
    expect(res.status).toBe(500);
    expect(await res.text()).toMatch(/cannot map event/);
  });
});

describe('HTTP functions', () => {
  it('answers 401 to a function-level route without a key or with a wrong one', async () => {
    const url = `${host.url}/api/admin/replay/tag-deltas`;
    expect((await fetch(url, { method: 'POST', body: '{}' })).status).toBe(401);
    const wrong = await fetch(url, { method: 'POST', body: '{}', headers: { 'x-functions-key': 'guess' } });
    expect(wrong.status).toBe(401);
  });

  it('runs the handler with the x-functions-key header and maps status, headers and jsonBody back', async () => {
    const res = await fetch(`${host.url}/api/admin/replay/tag-deltas?dryRun=true`, {
      method: 'POST',
      headers: { 'x-functions-key': host.functionKey, 'content-type': 'application/json' },
      body: JSON.stringify({ limit: 10 }),
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('x-invocation')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await res.json()).toEqual({ queue: 'tag-deltas', dryRun: 'true', body: { limit: 10 } });
  });

  it('accepts the key as ?code=', async () => {
    const res = await fetch(`${host.url}/api/admin/replay/x?code=${encodeURIComponent(host.functionKey)}`, {
      method: 'POST',
      body: '{}',
    });
    expect(res.status).toBe(202);
  });

  it('serves anonymous routes without a key and 404s unknown routes and methods', async () => {
    const ok = await fetch(`${host.url}/api/health`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('ok');
    expect((await fetch(`${host.url}/api/nothing-here`)).status).toBe(404);
    expect((await fetch(`${host.url}/api/health`, { method: 'POST' })).status).toBe(404);
  });

  it('answers 500 without details when the handler throws, and 204 when it returns nothing', async () => {
    const broken = await fetch(`${host.url}/api/broken`);
    expect(broken.status).toBe(500);
    expect(await broken.text()).toBe('');
    expect((await fetch(`${host.url}/api/nothing`)).status).toBe(204);
  });

  it('requires the master key for admin-level routes', async () => {
    const url = `${host.url}/api/ops/reset`;
    expect(
      (await fetch(url, { method: 'POST', headers: { 'x-functions-key': host.functionKey } })).status,
    ).toBe(401);
    expect(
      (await fetch(url, { method: 'POST', headers: { 'x-functions-key': host.masterKey } })).status,
    ).toBe(204);
  });
});
