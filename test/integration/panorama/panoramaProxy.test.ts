import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FailureKind, PanoramaError } from '../../../shared/errors.js';
import type { LogFields, Logger } from '../../../shared/logger.js';
import { PanoramaClient } from '../../../shared/panorama/PanoramaClient.js';
import { loadTestTls } from '../../../sim/kubernetes/loadTestTls.js';
import { type PanoramaHaPair, startPanoramaHaPair } from '../../../sim/panorama/startPanoramaHaPair.js';
import {
  type PanoramaSimulator,
  startPanoramaSimulator,
} from '../../../sim/panorama/startPanoramaSimulator.js';
import { type ConnectProxy, startConnectProxy } from '../../helpers/connectProxy.js';
import { rejectionOf as rejection } from '../../helpers/rejectionOf.js';

const FW1 = '007951000000001';
const PROXY_USER = 'egress-bot';
const PROXY_PASSWORD = 'Pr0xy-S3cret!';
const PROXY_BASIC = Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString('base64');
const tlsMaterial = loadTestTls();

let sim: PanoramaSimulator | undefined;
let pair: PanoramaHaPair | undefined;
let proxy: ConnectProxy | undefined;
const clients: PanoramaClient[] = [];

/** Sets the proxy environment in both spellings (`proxy-from-env` reads the lower-case one first). */
function proxyEnv(values: { https?: string; no?: string }): void {
  for (const k of ['HTTPS_PROXY', 'https_proxy']) vi.stubEnv(k, values.https ?? '');
  for (const k of ['NO_PROXY', 'no_proxy']) vi.stubEnv(k, values.no ?? '');
  for (const k of ['ALL_PROXY', 'all_proxy']) vi.stubEnv(k, '');
}

beforeEach(async () => {
  sim = await startPanoramaSimulator({ tls: tlsMaterial, deviceGroups: { 'dg-1': [{ serial: FW1 }] } });
  proxy = await startConnectProxy({ username: PROXY_USER, password: PROXY_PASSWORD });
});

afterEach(async () => {
  vi.unstubAllEnvs();
  for (const c of clients.splice(0)) c.close();
  await sim?.stop();
  await pair?.stop();
  await proxy?.stop();
  sim = undefined;
  pair = undefined;
});

/** A logger that keeps lines as given, without redaction (so a leak by the client would show). */
function rawLogger(): Logger & { lines: { level: string; message: string; fields?: LogFields }[] } {
  const lines: { level: string; message: string; fields?: LogFields }[] = [];
  const at = (level: string) => (message: string, fields?: LogFields) => {
    lines.push({ level, message, ...(fields ? { fields } : {}) });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function client(url: string, apiKey: string, caCert: string | undefined, logger: Logger = rawLogger()) {
  const c = new PanoramaClient(
    { url, apiKey, ...(caCert ? { caCert } : {}), chunkSize: 1000, concurrency: 4, timeoutMs: 5000 },
    { logger },
  );
  clients.push(c);
  return c;
}

function assertNoProxySecret(text: string): void {
  expect(text).not.toContain(PROXY_PASSWORD);
  expect(text).not.toContain(encodeURIComponent(PROXY_PASSWORD));
  expect(text).not.toContain(PROXY_BASIC);
}

describe('PanoramaClient through an HTTPS proxy (HTTPS_PROXY)', () => {
  it('tunnels with CONNECT, authenticates to the proxy, and verifies the simulator CA at the end of the tunnel', async () => {
    const s = sim as PanoramaSimulator;
    const p = proxy as ConnectProxy;
    proxyEnv({ https: p.url });
    const logger = rawLogger();
    const c = client(s.url, s.apiKey, tlsMaterial.ca, logger);
    await c.registerTags([{ ip: '10.0.0.1', tags: ['aks.c1.web'] }], { target: FW1 });
    expect(s.registered(FW1).get('10.0.0.1')).toEqual(['aks.c1.web']);
    const port = new URL(s.url).port;
    expect(p.connects.map((x) => [x.target, x.tunnelled])).toEqual([[`127.0.0.1:${port}`, true]]);
    expect(p.connects[0]?.authorization).toBe(`Basic ${PROXY_BASIC}`);
    expect(logger.lines.find((l) => l.message === 'panorama through proxy')?.fields).toEqual({
      peer: s.url,
      proxy: p.bareUrl,
    });
    assertNoProxySecret(JSON.stringify(logger.lines));
  });

  it('still refuses a certificate it cannot verify through the tunnel (no PANORAMA_CA_CERT)', async () => {
    const s = sim as PanoramaSimulator;
    const p = proxy as ConnectProxy;
    proxyEnv({ https: p.url });
    const err = await rejection(client(s.url, s.apiKey, undefined).listRegisteredIps());
    expect(err).toBeInstanceOf(PanoramaError);
    expect((err as PanoramaError).kind).toBe(FailureKind.permanent);
    expect((err as Error).message).toMatch(/TLS verification of Panorama failed/);
    expect(p.connects.some((x) => x.tunnelled)).toBe(true);
    expect(s.calls).toHaveLength(0);
  });

  it('a proxy refusing the credentials fails the call without revealing them', async () => {
    const s = sim as PanoramaSimulator;
    const p = proxy as ConnectProxy;
    proxyEnv({ https: p.url.replace(encodeURIComponent(PROXY_PASSWORD), 'Wr0ng-Pr0xy-Pw') });
    const logger = rawLogger();
    const err = await rejection(client(s.url, s.apiKey, tlsMaterial.ca, logger).listRegisteredIps());
    expect(err).toBeInstanceOf(PanoramaError);
    expect((err as Error).message).toMatch(/HTTP 407/);
    for (const text of [inspect(err, { depth: 10 }), JSON.stringify(logger.lines)]) {
      assertNoProxySecret(text);
      expect(text).not.toContain('Wr0ng-Pr0xy-Pw');
    }
    expect(s.calls).toHaveLength(0);
  });

  it.each(['127.0.0.1', '127.0.0.1:PORT', '*'])('NO_PROXY=%s bypasses the proxy', async (noProxy) => {
    const s = sim as PanoramaSimulator;
    const p = proxy as ConnectProxy;
    proxyEnv({ https: p.url, no: noProxy.replace('PORT', new URL(s.url).port) });
    await client(s.url, s.apiKey, tlsMaterial.ca).listRegisteredIps();
    expect(p.connects).toEqual([]);
    expect(s.calls).toHaveLength(1);
  });

  it('NO_PROXY for another host leaves the proxy in use', async () => {
    const s = sim as PanoramaSimulator;
    const p = proxy as ConnectProxy;
    proxyEnv({ https: p.url, no: 'localhost,.example.net' });
    await client(s.url, s.apiKey, tlsMaterial.ca).listRegisteredIps();
    expect(p.connects).toHaveLength(1);
  });

  it('reaches both peers of an HA pair through the proxy', async () => {
    const p = proxy as ConnectProxy;
    pair = await startPanoramaHaPair({ tls: tlsMaterial, deviceGroups: { 'dg-1': [{ serial: FW1 }] } });
    proxyEnv({ https: p.url });
    const c = client(pair.url, pair.apiKey, tlsMaterial.ca);
    pair.failover();
    await c.registerTags([{ ip: '10.0.0.7', tags: ['aks.c1.web'] }], { target: FW1 });
    expect(pair.model.registered(FW1).get('10.0.0.7')).toEqual(['aks.c1.web']);
    const targets = new Set(p.connects.map((x) => x.target));
    expect(targets).toEqual(
      new Set([pair.primary.url, pair.secondary.url].map((u) => `127.0.0.1:${new URL(u).port}`)),
    );
    expect((await c.describePeers()).map((x) => x.proxy)).toEqual([p.bareUrl, p.bareUrl]);
  });
});
