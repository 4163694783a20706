import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { PanoramaConfig } from '../../../shared/config/loadConfig.js';
import {
  ConfigError,
  FailureKind,
  FirewallNotConnectedError,
  InputError,
  PanoramaAuthError,
  PanoramaError,
} from '../../../shared/errors.js';
import type { LogFields, Logger } from '../../../shared/logger.js';
import type { IpTagEntry } from '../../../shared/panorama/PanoramaApi.js';
import { PanoramaClient, type PanoramaClientOptions } from '../../../shared/panorama/PanoramaClient.js';
import {
  type PanoramaSimulator,
  type PanoramaSimulatorOptions,
  startPanoramaSimulator,
} from '../../../sim/panorama/startPanoramaSimulator.js';
import { rejectionOf as rejection } from '../../helpers/rejectionOf.js';

const TLS_DIR = new URL('../../fixtures/tls/', import.meta.url);
const FW1 = '007951000000001';
const FW2 = '007951000000002';
const FW_DOWN = '007951000000009';

let sim: PanoramaSimulator | undefined;
const clients: PanoramaClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await sim?.stop();
  sim = undefined;
});

async function start(options: PanoramaSimulatorOptions = {}): Promise<PanoramaSimulator> {
  sim = await startPanoramaSimulator({
    deviceGroups: {
      'dg-spoke-1': [{ serial: FW1, hostname: 'fw-a' }, { serial: FW2 }],
      'dg-spoke-2': [{ serial: FW_DOWN, connected: false }],
      'dg-empty': [],
    },
    ...options,
  });
  return sim;
}

function client(
  s: PanoramaSimulator,
  config: Partial<PanoramaConfig> = {},
  options: PanoramaClientOptions = {},
): PanoramaClient {
  const c = new PanoramaClient(
    { url: s.url, apiKey: s.apiKey, chunkSize: 1000, concurrency: 4, timeoutMs: 5000, ...config },
    options,
  );
  clients.push(c);
  return c;
}

function entries(n: number, tags: (i: number) => string[], base = 0): IpTagEntry[] {
  return Array.from({ length: n }, (_, i) => {
    const k = base + i;
    return { ip: `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`, tags: tags(k) };
  });
}

/** A logger that keeps lines as given, without the shared logger's redaction (so leaks would show). */
function rawLogger(): Logger & { lines: { level: string; message: string; fields?: LogFields }[] } {
  const lines: { level: string; message: string; fields?: LogFields }[] = [];
  const at =
    (level: string) =>
    (message: string, fields?: LogFields): void => {
      lines.push({ level, message, ...(fields ? { fields } : {}) });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('PanoramaClient against the simulator: keys', () => {
  it('uses a configured key in the X-PAN-KEY header, never in the URL or body', async () => {
    const s = await start();
    await client(s).registerTags([{ ip: '10.0.0.1', tags: ['aks.c1.web'] }]);
    expect(s.calls).toHaveLength(1);
    expect(s.calls[0]).toMatchObject({ method: 'POST', url: '/api/', keyVia: 'header', type: 'user-id' });
    expect(s.calls[0]?.url).not.toContain(s.apiKey);
  });

  it('generates a key once with a POSTed keygen and shares it between concurrent first calls', async () => {
    const s = await start({ username: 'api user', password: 'p&ss=w@rd "x"' });
    const c = client(s, { apiKey: undefined, username: 'api user', password: 'p&ss=w@rd "x"' });
    await Promise.all([
      c.registerTags([{ ip: '10.0.0.1', tags: ['aks.a'] }]),
      c.registerTags([{ ip: '10.0.0.2', tags: ['aks.b'] }], { target: FW1 }),
      c.listDeviceGroupFirewalls(['dg-spoke-1']),
    ]);
    await c.listRegisteredIps();
    const keygens = s.calls.filter((x) => x.type === 'keygen');
    expect(keygens).toHaveLength(1);
    expect(keygens[0]).toMatchObject({ method: 'POST', url: '/api/', keyVia: 'none', status: 200 });
    expect(
      s.calls.filter((x) => x.type !== 'keygen').every((x) => x.keyVia === 'header' && x.status === 200),
    ).toBe(true);
    expect(s.calls.every((x) => !x.url.includes('p%26ss') && !x.url.includes('user'))).toBe(true);
  });

  it('raises PanoramaAuthError on bad credentials without revealing the password', async () => {
    const s = await start({ password: 'right-password' });
    const logger = rawLogger();
    const c = client(s, { apiKey: undefined, username: 'admin', password: 'Wr0ng-S3cret!' }, { logger });
    const err = await rejection(c.registerTags([{ ip: '10.0.0.1', tags: ['aks.a'] }]));
    expect(err).toBeInstanceOf(PanoramaAuthError);
    expect((err as PanoramaAuthError).kind).toBe(FailureKind.authentication);
    expect((err as Error).message).toContain('Invalid Credential');
    expect(inspect(err, { depth: 10 })).not.toContain('Wr0ng-S3cret!');
    expect(JSON.stringify(logger.lines)).not.toContain('Wr0ng-S3cret!');
    expect(s.calls.map((x) => [x.type, x.status])).toEqual([['keygen', 403]]);
  });

  it('a failed keygen is not cached: the next call tries again', async () => {
    const s = await start({ password: 'pw-1234' });
    const c = client(s, { apiKey: undefined, username: 'admin', password: 'pw-1234' });
    s.failNext('http-503', { type: 'keygen' });
    const err = await rejection(c.listRegisteredIps());
    expect((err as PanoramaError).kind).toBe(FailureKind.retryable);
    await expect(c.listRegisteredIps()).resolves.toEqual(new Map());
    expect(s.calls.filter((x) => x.type === 'keygen')).toHaveLength(2);
  });

  it('re-keys once when a generated key is refused, then succeeds', async () => {
    const s = await start({ password: 'pw-1234' });
    const c = client(s, { apiKey: undefined, username: 'admin', password: 'pw-1234' });
    await c.registerTags([{ ip: '10.0.0.1', tags: ['aks.a'] }]);
    s.rotateApiKey();
    const result = await c.registerTags([{ ip: '10.0.0.2', tags: ['aks.b'] }]);
    expect(result.calls).toBe(2);
    expect(s.calls.map((x) => [x.type, x.status])).toEqual([
      ['keygen', 200],
      ['user-id', 200],
      ['user-id', 403],
      ['keygen', 200],
      ['user-id', 200],
    ]);
    expect(s.registered().get('10.0.0.2')).toEqual(['aks.b']);
  });

  it('concurrent calls refused with a stale generated key share one re-key, and logs never show a key', async () => {
    const s = await start({ password: 'pw-1234' });
    const logger = rawLogger();
    const c = client(s, { apiKey: undefined, username: 'admin', password: 'pw-1234' }, { logger });
    await c.listRegisteredIps();
    const firstKey = s.apiKey;
    s.rotateApiKey();
    await Promise.all([
      c.listRegisteredIps(),
      c.listRegisteredIps({ target: FW1 }),
      c.registerTags([{ ip: '10.0.0.1', tags: ['aks.a'] }]),
    ]);
    expect(s.calls.filter((x) => x.type === 'keygen')).toHaveLength(2);
    expect(s.calls.filter((x) => x.status === 403)).toHaveLength(3);
    const logged = JSON.stringify(logger.lines);
    expect(logger.lines.length).toBeGreaterThan(0);
    expect(logged).not.toContain(firstKey);
    expect(logged).not.toContain(s.apiKey);
    expect(logged).not.toContain('pw-1234');
  });

  it('re-keys at most once: a key refused again raises PanoramaAuthError', async () => {
    const s = await start({ password: 'pw-1234' });
    const c = client(s, { apiKey: undefined, username: 'admin', password: 'pw-1234' });
    s.failNext('key-refused', { type: 'op', count: 2 });
    const err = await rejection(c.listRegisteredIps());
    expect(err).toBeInstanceOf(PanoramaAuthError);
    expect(s.calls.map((x) => [x.type, x.status])).toEqual([
      ['keygen', 200],
      ['op', 403],
      ['keygen', 200],
      ['op', 403],
    ]);
  });

  it('raises PanoramaAuthError for a refused configured key without re-keying and without the key in the message', async () => {
    const s = await start();
    const c = client(s, { apiKey: 'not-the-key-123456' });
    const err = await rejection(c.listDeviceGroupFirewalls(['dg-spoke-1']));
    expect(err).toBeInstanceOf(PanoramaAuthError);
    expect(inspect(err, { depth: 10 })).not.toContain('not-the-key-123456');
    expect(s.calls.map((x) => [x.type, x.status])).toEqual([['op', 403]]);
  });
});

describe.each(['error', 'silent'] as const)('register/unregister with duplicate mode "%s"', (mode) => {
  it('registering twice and unregistering twice both succeed with no failures', async () => {
    const s = await start({ duplicateMode: mode });
    const c = client(s);
    const batch = entries(50, (i) => [`aks.c1.svc-${i}`, 'aks.c1.svc.app.web']);
    const first = await c.registerTags(batch);
    const again = await c.registerTags(batch);
    expect(first).toMatchObject({ calls: 1, failures: [] });
    expect(again).toMatchObject({ calls: 1, failures: [] });
    expect(s.registered().size).toBe(50);
    expect(s.registered().get('10.0.0.7')).toEqual(['aks.c1.svc-7', 'aks.c1.svc.app.web']);

    const partly = await c.registerTags([{ ip: '10.0.0.7', tags: ['aks.c1.svc-7', 'aks.c1.new'] }]);
    expect(partly.failures).toEqual([]);
    expect(s.registered().get('10.0.0.7')).toEqual(['aks.c1.new', 'aks.c1.svc-7', 'aks.c1.svc.app.web']);

    const unreg = await c.unregisterTags(batch);
    const unregAgain = await c.unregisterTags([...batch, { ip: '10.9.9.9', tags: ['aks.c1.none'] }]);
    expect(unreg.failures).toEqual([]);
    expect(unregAgain.failures).toEqual([]);
    expect(s.registered()).toEqual(new Map([['10.0.0.7', ['aks.c1.new']]]));
    if (mode === 'error') {
      expect(s.calls.filter((x) => x.status === 200)).toHaveLength(5);
    }
  });

  it('reports every other per-entry error per (ip, tags) and applies the rest', async () => {
    const s = await start({ duplicateMode: mode });
    const c = client(s);
    s.seedTags([{ ip: '10.0.0.1', tags: ['aks.c1.a'] }]);
    const result = await c.registerTags([
      { ip: '10.0.0.1', tags: ['aks.c1.a'] },
      { ip: 'not-an-ip', tags: ['aks.c1.x'] },
      { ip: '10.0.0.2', tags: ['aks.c1.b'] },
      { ip: '999.1.1.1', tags: ['aks.c1.y', 'aks.c1.z'] },
    ]);
    expect(result.failures).toEqual([
      { ip: 'not-an-ip', tags: ['aks.c1.x'], message: 'Invalid IP address', operation: 'register' },
      {
        ip: '999.1.1.1',
        tags: ['aks.c1.y', 'aks.c1.z'],
        message: 'Invalid IP address',
        operation: 'register',
      },
    ]);
    expect(s.registered()).toEqual(
      new Map([
        ['10.0.0.1', ['aks.c1.a']],
        ['10.0.0.2', ['aks.c1.b']],
      ]),
    );
    const un = await c.unregisterTags([{ ip: 'bad ip', tags: ['aks.c1.x'] }]);
    expect(un.failures).toEqual([
      { ip: 'bad ip', tags: ['aks.c1.x'], message: 'Invalid IP address', operation: 'unregister' },
    ]);
  });
});

describe('register/unregister transport', () => {
  it('round-trips hostile tag text and IPv6 through XML escaping', async () => {
    const s = await start();
    const c = client(s);
    const hostile = 'aks.c1.a&b<c>&amp;x';
    const result = await c.registerTags([
      { ip: '10.0.0.1', tags: [hostile, 'aks.c1.</member></tag></entry>'] },
      { ip: '2001:db8::1', tags: ['aks.c1.v6'] },
      { ip: '10.0.0.2', tags: [`aks.c1.a"b<c>&'`] },
    ]);
    expect(s.calls[0]?.register).toEqual([
      { ip: '10.0.0.1', tags: ['aks.c1.</member></tag></entry>', hostile] },
      { ip: '2001:db8::1', tags: ['aks.c1.v6'] },
      { ip: '10.0.0.2', tags: [`aks.c1.a"b<c>&'`] },
    ]);
    expect(result.failures).toEqual([
      {
        ip: '10.0.0.2',
        tags: [`aks.c1.a"b<c>&'`],
        message: `tag aks.c1.a"b<c>&' is not a valid tag name`,
        operation: 'register',
      },
    ]);
    const read = await c.listRegisteredIps();
    expect(read.get('10.0.0.1')).toEqual(['aks.c1.</member></tag></entry>', hostile]);
    expect(read.get('2001:db8::1')).toEqual(['aks.c1.v6']);
    expect(read.has('10.0.0.2')).toBe(false);
  });

  it('chunks 2,500 IPs into ⌈2500/1000⌉ calls and both sections of an update into one message when they fit', async () => {
    const s = await start();
    const c = client(s);
    const result = await c.registerTags(entries(2500, (i) => [`aks.c1.s${i % 7}`]));
    expect(result.calls).toBe(3);
    expect(s.calls.map((x) => x.register?.length)).toEqual([1000, 1000, 500]);
    s.resetCalls();
    const upd = await c.updateTags(
      [{ ip: '10.0.0.1', tags: ['aks.c1.new'] }],
      [{ ip: '10.0.0.1', tags: ['aks.c1.s1'] }],
    );
    expect(upd).toMatchObject({ calls: 1, failures: [] });
    expect(s.calls[0]).toMatchObject({
      register: [{ ip: '10.0.0.1', tags: ['aks.c1.new'] }],
      unregister: [{ ip: '10.0.0.1', tags: ['aks.c1.s1'] }],
    });
    expect(s.registered().get('10.0.0.1')).toEqual(['aks.c1.new']);
  });

  it('refuses an update that registers and unregisters the same (ip, tag), before any call', async () => {
    const s = await start();
    const err = await rejection(
      client(s).updateTags(
        [{ ip: '10.0.0.1', tags: ['aks.a', 'aks.b'] }],
        [{ ip: '10.0.0.1', tags: ['aks.b'] }],
      ),
    );
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain('10.0.0.1 aks.b');
    expect(s.calls).toHaveLength(0);
  });

  it('keeps every request under the byte limit: the client splits, the simulator enforces 5 MB', async () => {
    const s = await start({ maxRequestBytes: 200_000 });
    const big = entries(1000, (i) =>
      Array.from({ length: 6 }, (_, t) => `aks.cluster-with-a-long-name.svc.label-${t}.value-${i}`),
    );
    const ok = await client(s, {}, { maxRequestBytes: 200_000 }).registerTags(big);
    expect(ok.calls).toBeGreaterThan(1);
    expect(s.calls.every((x) => x.bytes <= 200_000 && x.status === 200)).toBe(true);
    expect(s.registered().size).toBe(1000);
    const err = await rejection(client(s, {}, { maxRequestBytes: 10_000_000 }).registerTags(big));
    expect(err).toBeInstanceOf(PanoramaError);
    expect((err as PanoramaError).kind).toBe(FailureKind.permanent);
    expect((err as Error).message).toMatch(/HTTP 413|maximum size/);
  });

  it('runs at most `concurrency` calls at once per device', async () => {
    const s = await start({ faults: { latencyMs: 20 } });
    const c = client(s, { chunkSize: 10, concurrency: 2 });
    await Promise.all([
      c.registerTags(entries(100, () => ['aks.a'])),
      c.registerTags(
        entries(100, () => ['aks.a']),
        { target: FW1 },
      ),
    ]);
    expect(s.stats.calls).toBe(20);
    expect(s.stats.maxInFlight['']).toBe(2);
    expect(s.stats.maxInFlight[FW1]).toBe(2);
  });

  it('passes vsys and logs one debug line per call with target, entries, chunk, bytes and duration, never the key', async () => {
    const s = await start();
    const logger = rawLogger();
    // PANORAMA_VSYS (`vsys1` here) is for Panorama itself; a firewall call sends its own vsys.
    const c = client(s, { vsys: 'vsys1', chunkSize: 2 }, { logger });
    await c.registerTags(
      entries(3, () => ['aks.a']),
      { target: FW1, vsys: 'vsys1' },
    );
    expect(s.calls.map((x) => x.vsys)).toEqual(['vsys1', 'vsys1']);
    const lines = logger.lines.filter((l) => l.message === 'panorama call');
    expect(lines).toHaveLength(2);
    expect(lines[0]?.fields).toMatchObject({ target: FW1, entries: 2, chunk: '1/2', status: 200 });
    expect(lines[0]?.fields?.bytes).toBeTypeOf('number');
    expect(lines[0]?.fields?.durationMs).toBeTypeOf('number');
    expect(JSON.stringify(logger.lines)).not.toContain(s.apiKey);
  });
});

describe('listRegisteredIps', () => {
  it('pages through 1,200 IPs 500 at a time and filters by tag prefix', async () => {
    const s = await start();
    const mine = entries(1100, (i) => [`aks.c1.svc-${i}`, `aks_web.c1.svc-${i}`, 'manual-tag']);
    s.seedTags(mine);
    s.seedTags(entries(100, () => ['other-plugin.x'], 5000));
    const c = client(s);
    const all = await c.listRegisteredIps();
    expect(all.size).toBe(1200);
    const ops = s.calls.filter((x) => x.type === 'op');
    expect(ops.map((x) => /<start-point>(\d+)</.exec(x.cmd ?? '')?.[1])).toEqual(['1', '501', '1001']);
    expect(ops.every((x) => x.cmd?.includes('<limit>500</limit>') && x.cmd.includes('<all/>'))).toBe(true);

    const owned = await c.listRegisteredIps({ tagPrefixes: ['aks.', 'aks_'] });
    expect(owned.size).toBe(1100);
    expect(owned.get('10.0.0.5')).toEqual(['aks.c1.svc-5', 'aks_web.c1.svc-5']);
    expect(owned.has(entries(1, () => [], 5000)[0]?.ip ?? '')).toBe(false);
  });

  it('stops after one call when the first page is short, and reads a firewall through target', async () => {
    const s = await start();
    s.seedTags([{ ip: '10.1.1.1', tags: ['aks.b', 'aks.a'] }], FW2);
    const c = client(s);
    expect(await c.listRegisteredIps({ target: FW2 })).toEqual(new Map([['10.1.1.1', ['aks.a', 'aks.b']]]));
    expect(await c.listRegisteredIps()).toEqual(new Map());
    expect(s.calls.map((x) => x.target)).toEqual([FW2, undefined]);
  });
});

describe('device groups and targets', () => {
  it('lists the firewalls of named groups with their connected state', async () => {
    const s = await start();
    const fws = await client(s).listDeviceGroupFirewalls(['dg-spoke-2', 'dg-spoke-1', 'dg-empty']);
    const fw = (serial: string, deviceGroup: string, connected: boolean, hostname = `fw-${serial}`) => ({
      ...{ serial, deviceGroup, notifyGroup: deviceGroup, connected, hostname },
    });
    expect(fws).toEqual([
      fw(FW_DOWN, 'dg-spoke-2', false),
      fw(FW1, 'dg-spoke-1', true, 'fw-a'),
      fw(FW2, 'dg-spoke-1', true),
    ]);
    expect(s.calls.map((c) => c.cmd)).toEqual(
      expect.arrayContaining(['<show><devicegroups/></show>', '<show><dg-hierarchy></dg-hierarchy></show>']),
    );
  });

  it('raises a permanent error naming unknown device groups', async () => {
    const s = await start();
    const err = await rejection(client(s).listDeviceGroupFirewalls(['dg-spoke-1', 'dg-typo', 'dg-nope']));
    expect(err).toBeInstanceOf(PanoramaError);
    expect((err as PanoramaError).kind).toBe(FailureKind.permanent);
    expect((err as Error).message).toBe('Device group(s) not found on Panorama: dg-typo, dg-nope');
  });

  it('routes target=<serial> to that firewall only; no target writes Panorama itself', async () => {
    const s = await start();
    const c = client(s);
    await c.registerTags([{ ip: '10.0.0.1', tags: ['aks.fw1'] }], { target: FW1 });
    await c.registerTags([{ ip: '10.0.0.1', tags: ['aks.pano'] }]);
    expect(s.registered(FW1)).toEqual(new Map([['10.0.0.1', ['aks.fw1']]]));
    expect(s.registered(FW2)).toEqual(new Map());
    expect(s.registered()).toEqual(new Map([['10.0.0.1', ['aks.pano']]]));
    expect(s.calls[0]?.url).toBe('/api/');
    expect(s.calls[0]?.target).toBe(FW1);
  });

  it('raises FirewallNotConnectedError (retryable) for a disconnected target, and recovers when it reconnects', async () => {
    const s = await start();
    const c = client(s);
    const err = await rejection(c.registerTags([{ ip: '10.0.0.1', tags: ['aks.a'] }], { target: FW_DOWN }));
    expect(err).toBeInstanceOf(FirewallNotConnectedError);
    expect((err as FirewallNotConnectedError).serial).toBe(FW_DOWN);
    expect((err as FirewallNotConnectedError).kind).toBe(FailureKind.retryable);
    await expect(c.listRegisteredIps({ target: FW_DOWN })).rejects.toBeInstanceOf(FirewallNotConnectedError);
    s.setConnected(FW_DOWN, true);
    await c.registerTags([{ ip: '10.0.0.1', tags: ['aks.a'] }], { target: FW_DOWN });
    expect(s.registered(FW_DOWN).get('10.0.0.1')).toEqual(['aks.a']);
  });

  it('raises a permanent error for a serial Panorama does not manage', async () => {
    const s = await start();
    const err = await rejection(
      client(s).registerTags([{ ip: '10.0.0.1', tags: ['aks.a'] }], { target: '999' }),
    );
    expect(err).toBeInstanceOf(PanoramaError);
    expect(err).not.toBeInstanceOf(FirewallNotConnectedError);
    expect((err as PanoramaError).kind).toBe(FailureKind.permanent);
  });

  it('finds a rebooted firewall empty, and a re-register restores it', async () => {
    const s = await start();
    const c = client(s);
    const batch = entries(20, (i) => [`aks.c1.s${i}`]);
    await c.registerTags(batch, { target: FW1 });
    s.reboot(FW1);
    expect((await c.listRegisteredIps({ target: FW1, tagPrefixes: ['aks.'] })).size).toBe(0);
    await c.registerTags(batch, { target: FW1 });
    expect((await c.listRegisteredIps({ target: FW1, tagPrefixes: ['aks.'] })).size).toBe(20);
  });
});

describe('transient failures are retryable errors', () => {
  it.each([
    ['http-500', /HTTP 500/],
    ['http-502', /HTTP 502/],
    ['http-503', /HTTP 503/],
    ['drop', /connection failed/],
    ['drop-after-apply', /connection failed/],
    ['session-timeout', /Session timed out.*code 22/],
  ] as const)('%s', async (fault, message) => {
    const s = await start();
    const c = client(s);
    s.failNext(fault);
    const err = await rejection(c.registerTags([{ ip: '10.0.0.1', tags: ['aks.a'] }]));
    expect(err).toBeInstanceOf(PanoramaError);
    expect((err as PanoramaError).kind).toBe(FailureKind.retryable);
    expect((err as Error).message).toMatch(message);
    expect(s.registered().has('10.0.0.1')).toBe(fault === 'drop-after-apply');
    await expect(c.registerTags([{ ip: '10.0.0.1', tags: ['aks.a'] }])).resolves.toMatchObject({
      failures: [],
    });
    expect(s.registered().get('10.0.0.1')).toEqual(['aks.a']);
  });

  it('a call that gets no answer within timeoutMs fails retryably', async () => {
    const s = await start();
    const c = client(s, { timeoutMs: 300 });
    s.failNext('hang');
    const err = await rejection(c.listDeviceGroupFirewalls(['dg-spoke-1']));
    expect(err).toBeInstanceOf(PanoramaError);
    expect((err as PanoramaError).kind).toBe(FailureKind.retryable);
    expect((err as Error).message).toContain('did not answer within 300 ms');
  });

  it('a refused connection fails retryably', async () => {
    const s = await start();
    const url = s.url;
    await s.stop();
    sim = undefined;
    const c = new PanoramaClient({
      url,
      apiKey: 'k-123456',
      chunkSize: 1000,
      concurrency: 1,
      timeoutMs: 2000,
    });
    clients.push(c);
    const err = await rejection(c.listRegisteredIps());
    expect((err as PanoramaError).kind).toBe(FailureKind.retryable);
    expect((err as PanoramaError).details.code).toBe('ECONNREFUSED');
  });

  it('an error that still holds after the chunks settle is thrown; other chunks were applied', async () => {
    const s = await start();
    const c = client(s, { chunkSize: 10, concurrency: 1 });
    s.failNext('http-503', { type: 'user-id' });
    const err = await rejection(c.registerTags(entries(30, () => ['aks.a'])));
    expect((err as PanoramaError).kind).toBe(FailureKind.retryable);
    expect(s.registered().size).toBe(20);
  });
});

describe('TLS', () => {
  const tlsOptions = {
    cert: readFileSync(new URL('server.pem', TLS_DIR)),
    key: readFileSync(new URL('server-key.pem', TLS_DIR)),
  };
  const ca = readFileSync(new URL('ca.pem', TLS_DIR), 'utf8');

  it('verifies the simulator certificate with caCert', async () => {
    const s = await start({ tls: tlsOptions });
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const fws = await client(s, { caCert: ca }).listDeviceGroupFirewalls(['dg-spoke-1']);
    expect(fws.map((f) => f.serial)).toEqual([FW1, FW2]);
  });

  it('rejects the private CA without caCert, as a permanent error that names the fix', async () => {
    const s = await start({ tls: tlsOptions });
    const err = await rejection(client(s).listDeviceGroupFirewalls(['dg-spoke-1']));
    expect(err).toBeInstanceOf(PanoramaError);
    expect((err as PanoramaError).kind).toBe(FailureKind.permanent);
    expect((err as Error).message).toContain('PANORAMA_CA_CERT');
    expect(s.calls).toHaveLength(0);
  });

  it('refuses http:// for a non-loopback host', () => {
    expect(
      () =>
        new PanoramaClient({
          url: 'http://panorama.example.net',
          apiKey: 'k-123456',
          chunkSize: 1000,
          concurrency: 4,
          timeoutMs: 1000,
        }),
    ).toThrow(ConfigError);
  });
});
