import { afterEach, describe, expect, it } from 'vitest';
import type { PanoramaConfig } from '../../../shared/config/loadConfig.js';
import { FailureKind, PanoramaError } from '../../../shared/errors.js';
import { memoryLogger } from '../../../shared/logger.js';
import type { IpTagEntry } from '../../../shared/panorama/PanoramaApi.js';
import { PanoramaClient, type PanoramaClientOptions } from '../../../shared/panorama/PanoramaClient.js';
import { formatPanoramaPeers, panoramaPeersReport } from '../../../shared/panorama/panoramaPeersReport.js';
import { PASSIVE_USER_ID_TEXT } from '../../../sim/panorama/panoramaHa.js';
import { type PanoramaHaPair, startPanoramaHaPair } from '../../../sim/panorama/startPanoramaHaPair.js';
import {
  type PanoramaSimulator,
  startPanoramaSimulator,
} from '../../../sim/panorama/startPanoramaSimulator.js';
import { rejectionOf as rejection } from '../../helpers/rejectionOf.js';

const FW1 = '007951000000001';
const HA_CMD = '<show><high-availability><state></state></high-availability></show>';

let pair: PanoramaHaPair | undefined;
let single: PanoramaSimulator | undefined;
const clients: PanoramaClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await pair?.stop();
  await single?.stop();
  pair = undefined;
  single = undefined;
});

async function startPair(): Promise<PanoramaHaPair> {
  pair = await startPanoramaHaPair({ deviceGroups: { 'dg-1': [{ serial: FW1 }] } });
  return pair;
}

function client(
  url: string,
  apiKey: string | undefined,
  config: Partial<PanoramaConfig> = {},
  options: PanoramaClientOptions = {},
) {
  const c = new PanoramaClient(
    { url, ...(apiKey ? { apiKey } : {}), chunkSize: 1000, concurrency: 4, timeoutMs: 5000, ...config },
    options,
  );
  clients.push(c);
  return c;
}

const entry = (ip: string, tag = 'aks.c1.web'): IpTagEntry => ({ ip, tags: [tag] });
const userIdCalls = (s: PanoramaSimulator) => s.calls.filter((c) => c.type === 'user-id');
const haCalls = (s: PanoramaSimulator) => s.calls.filter((c) => c.cmd === HA_CMD);

describe('Panorama HA: which peer gets the calls', () => {
  it('one URL behaves as before: no HA question, every call to that Panorama', async () => {
    single = await startPanoramaSimulator({ deviceGroups: { 'dg-1': [{ serial: FW1 }] } });
    const c = client(single.url, single.apiKey);
    await c.registerTags([entry('10.0.0.1')], { target: FW1 });
    await c.listRegisteredIps({ target: FW1 });
    expect(haCalls(single)).toHaveLength(0);
    expect(single.calls.map((x) => x.type)).toEqual(['user-id', 'op']);
  });

  it('two URLs, active first: everything goes to the first; the second is only asked its state', async () => {
    const p = await startPair();
    const c = client(p.url, p.apiKey);
    await c.registerTags([entry('10.0.0.1')], { target: FW1 });
    await c.listRegisteredIps({ target: FW1 });
    expect(userIdCalls(p.primary)).toHaveLength(1);
    expect(p.secondary.calls.map((x) => x.cmd)).toEqual([HA_CMD]);
    expect(p.model.registered(FW1).get('10.0.0.1')).toEqual(['aks.c1.web']);
  });

  it('two URLs, active second: everything goes to the second', async () => {
    const p = await startPair();
    p.failover();
    const c = client(p.url, p.apiKey);
    await c.registerTags([entry('10.0.0.1')], { target: FW1 });
    expect(userIdCalls(p.primary)).toHaveLength(0);
    expect(userIdCalls(p.secondary)).toHaveLength(1);
    expect(p.primary.calls.map((x) => x.cmd)).toEqual([HA_CMD]);
  });

  it('generates the key on a live peer when the first one is down', async () => {
    const p = await startPair();
    await p.crash('primary');
    const c = client(p.url, undefined, { username: p.username, password: p.password });
    await c.registerTags([entry('10.0.0.9')], { target: FW1 });
    expect(p.secondary.calls.filter((x) => x.type === 'keygen')).toHaveLength(1);
    expect(p.model.registered(FW1).get('10.0.0.9')).toEqual(['aks.c1.web']);
  });
});

describe('Panorama HA: failover', () => {
  it('a failover takes one call permit per HTTP request, so no permit has to outlast the whole failover', async () => {
    const p = await startPair();
    let permits = 0;
    const counting = {
      withPermit<T>(call: () => Promise<T>): Promise<T> {
        permits++;
        return call();
      },
    };
    const c = client(p.url, p.apiKey, {}, { permits: counting });
    await c.registerTags([entry('10.0.0.1')], { target: FW1 });
    p.failover();
    await c.registerTags([entry('10.0.0.2')], { target: FW1 });
    const requests = p.primary.calls.length + p.secondary.calls.length;
    // Two pushes: HA probes of both peers, the refused push, the probes again, the push on the new active.
    expect(requests).toBeGreaterThan(4);
    expect(permits).toBe(requests);
  });

  it('the active peer turns passive: the refused push is asked again and lands on the new active', async () => {
    const p = await startPair();
    const logger = memoryLogger();
    const c = client(p.url, p.apiKey, {}, { logger });
    await c.registerTags([entry('10.0.0.1')], { target: FW1 });
    p.failover();
    const result = await c.registerTags([entry('10.0.0.2')], { target: FW1 });
    expect(result.failures).toEqual([]);
    expect(p.model.registered(FW1).get('10.0.0.2')).toEqual(['aks.c1.web']);
    const refused = userIdCalls(p.primary).at(-1);
    expect(refused?.status).toBe(200);
    expect(userIdCalls(p.secondary)).toHaveLength(1);
    expect(logger.lines.find((l) => l.message === 'panorama failover')?.fields).toMatchObject({
      from: p.primary.url,
      to: p.secondary.url,
    });
    expect(PASSIVE_USER_ID_TEXT).toMatch(/not the active/);
  });

  it('the active peer becomes unreachable: the push moves to the other peer', async () => {
    const p = await startPair();
    const c = client(p.url, p.apiKey);
    await c.registerTags([entry('10.0.0.1')], { target: FW1 });
    await p.crash('primary');
    await c.unregisterTags([entry('10.0.0.1')], { target: FW1 });
    await c.registerTags([entry('10.0.0.3')], { target: FW1 });
    expect([...p.model.registered(FW1)]).toEqual([['10.0.0.3', ['aks.c1.web']]]);
    expect(userIdCalls(p.secondary)).toHaveLength(2);
  });

  it('follows a role switch within haRecheckMs even without a failure', async () => {
    const p = await startPair();
    const c = client(p.url, p.apiKey, {}, { haRecheckMs: 1 });
    await c.listRegisteredIps({ target: FW1 });
    p.failover();
    await new Promise((r) => setTimeout(r, 5));
    await c.registerTags([entry('10.0.0.4')], { target: FW1 });
    expect(userIdCalls(p.primary)).toHaveLength(0);
    expect(userIdCalls(p.secondary)).toHaveLength(1);
  });

  it('nothing lost: during the switch-over a push fails retryable, and its retry lands', async () => {
    const p = await startPair();
    const c = client(p.url, p.apiKey);
    await c.registerTags([entry('10.0.0.1')], { target: FW1 });
    p.setRoles('passive', 'passive');
    const err = await rejection(c.registerTags([entry('10.0.0.5')], { target: FW1 }));
    expect(err).toBeInstanceOf(PanoramaError);
    expect((err as PanoramaError).kind).toBe(FailureKind.retryable);
    expect((err as Error).message).toContain('No active Panorama in the HA pair');
    expect(p.model.registered(FW1).has('10.0.0.5')).toBe(false);
    p.setRoles('passive', 'active');
    await c.registerTags([entry('10.0.0.5')], { target: FW1 });
    expect(p.model.registered(FW1).get('10.0.0.5')).toEqual(['aks.c1.web']);
  });

  it('nothing lost: a large push in flight when the active peer dies lands completely on the other', async () => {
    const p = await startPair();
    const c = client(p.url, p.apiKey, { chunkSize: 50 });
    await c.listRegisteredIps({ target: FW1 });
    p.primary.setFaults({ latencyMs: 40 });
    const all = Array.from({ length: 1000 }, (_, i) => entry(`10.1.${i >> 8}.${i & 255}`));
    const push = c.registerTags(all, { target: FW1 });
    await new Promise((r) => setTimeout(r, 60));
    await p.crash('primary');
    const result = await push;
    expect(result.failures).toEqual([]);
    expect(p.model.registered(FW1).size).toBe(1000);
    expect(userIdCalls(p.secondary).length).toBeGreaterThan(0);
  });
});

describe('Panorama HA: status', () => {
  it('describePeers names the active peer, the state each reports and since when', async () => {
    const p = await startPair();
    const c = client(p.url, p.apiKey);
    const before = await c.describePeers();
    expect(before.map((x) => [x.url, x.role, x.state, x.inUse])).toEqual([
      [p.primary.url, 'active', 'primary-active', true],
      [p.secondary.url, 'passive', 'secondary-passive', false],
    ]);
    await p.crash('primary');
    const after = await c.describePeers();
    expect(after.map((x) => [x.role, x.inUse])).toEqual([
      ['unreachable', false],
      ['active', true],
    ]);
    expect(after[1]?.state).toBe('secondary-active');
    expect(after[1]?.stateDurationSeconds).toBe(0);
  });

  it('the status report says which peer is active and since when, and when none is', async () => {
    const p = await startPair();
    const c = client(p.url, p.apiKey);
    const now = new Date('2030-01-01T00:00:00Z');
    const report = await panoramaPeersReport(c, now);
    expect(report?.active).toBe(p.primary.url);
    expect(report?.peers.map((x) => x.since)).toEqual([now.toISOString(), now.toISOString()]);
    const text = formatPanoramaPeers(report as NonNullable<typeof report>);
    expect(text).toContain(`Panorama HA pair: active peer ${p.primary.url}`);
    expect(text).toMatch(/active \(primary-active\) since 2030-01-01T00:00:00.000Z {2}← in use/);
    p.setRoles('passive', 'initial');
    const none = await panoramaPeersReport(c, now);
    expect(none?.active).toBeUndefined();
    expect(formatPanoramaPeers(none as NonNullable<typeof none>)).toMatch(
      /^Panorama HA pair: NO ACTIVE PEER/,
    );
  });

  it('one URL: no HA section in status, and no extra call', async () => {
    single = await startPanoramaSimulator();
    const c = client(single.url, single.apiKey);
    expect(await panoramaPeersReport(c, new Date())).toBeUndefined();
    expect(single.calls).toHaveLength(0);
  });

  it('one URL: describePeers reports it standalone and in use', async () => {
    single = await startPanoramaSimulator();
    const c = client(single.url, single.apiKey);
    expect(await c.describePeers()).toEqual([{ url: single.url, role: 'standalone', inUse: true }]);
  });
});
