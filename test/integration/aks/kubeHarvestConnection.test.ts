import http from 'node:http';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeCredentialProvider } from '../../../shared/aks/KubeCredentialProvider.js';
import { FailureKind, KubernetesError } from '../../../shared/errors.js';
import { KubernetesServiceSource } from '../../../shared/kubernetes/KubernetesServiceSource.js';
import { memoryLogger } from '../../../shared/logger.js';
import { closeServer } from '../../../sim/closeServer.js';
import { startKubernetesSimulator } from '../../../sim/kubernetes/startKubernetesSimulator.js';
import { listenOnLoopback } from '../../../sim/listenOnLoopback.js';
import { startConnectProxy } from '../../helpers/connectProxy.js';
import { manyServices, recordingDelay, tokenCluster } from './aksTestKit.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** A TCP forwarder in front of `port` that counts the connections opened through it. */
async function countingForwarder(port: number): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    connections++;
    sockets.add(client);
    const upstream = net.connect(port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    sockets.add(upstream);
  });
  const own = await listenOnLoopback(server);
  stops.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  );
  return { port: own, connections: () => connections };
}

function source(options: Partial<ConstructorParameters<typeof KubernetesServiceSource>[0]> = {}) {
  const access = new KubeCredentialProvider({
    credential: () => {
      throw new Error('no Azure credential in token mode');
    },
  });
  const src = new KubernetesServiceSource({
    access,
    delay: recordingDelay(),
    logger: memoryLogger(),
    ...options,
  });
  stops.push(async () => src.close());
  return src;
}

/** A plain-HTTP stand-in API server answering every request with `answer`. */
async function fakeApiServer(answer: (res: http.ServerResponse) => void): Promise<string> {
  const server = http.createServer((_req, res) => answer(res));
  const port = await listenOnLoopback(server);
  stops.push(() => closeServer(server));
  return `http://127.0.0.1:${port}`;
}

describe('the lean harvest keeps one connection per cluster', () => {
  it('reads every page of two lists over one TLS connection', async () => {
    const k8s = await startKubernetesSimulator({ services: manyServices(2_500) });
    stops.push(() => k8s.stop());
    const fwd = await countingForwarder(Number(new URL(k8s.url).port));
    const src = source();
    const cluster = tokenCluster('aks-ka', { ...k8s, url: `https://127.0.0.1:${fwd.port}` });

    expect(await src.listServices(cluster)).toHaveLength(2_500);
    expect(await src.listServices(cluster)).toHaveLength(2_500);

    expect(k8s.requests.filter((r) => r.path === '/api/v1/services')).toHaveLength(6);
    expect(fwd.connections()).toBe(1);
  });

  it('keeps one CONNECT tunnel through HTTPS_PROXY for every page', async () => {
    const k8s = await startKubernetesSimulator({ services: manyServices(1_200) });
    stops.push(() => k8s.stop());
    const proxy = await startConnectProxy();
    stops.push(() => proxy.stop());
    const saved = { HTTPS_PROXY: process.env.HTTPS_PROXY, NO_PROXY: process.env.NO_PROXY };
    process.env.HTTPS_PROXY = proxy.url;
    process.env.NO_PROXY = '';
    try {
      expect(await source({ pageSize: 250 }).listServices(tokenCluster('aks-kp', k8s))).toHaveLength(1_200);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    expect(k8s.requests).toHaveLength(5);
    expect(proxy.connects.filter((c) => c.tunnelled)).toHaveLength(1);
  });
});

describe('the lean harvest decodes the answer itself', () => {
  const cluster = (server: string) =>
    tokenCluster('aks-fake', { url: server, token: 'fake-token-0123456789' });

  it('accepts a gzip-encoded ServiceList', async () => {
    const body = gzipSync(JSON.stringify({ kind: 'ServiceList', metadata: {}, items: manyServices(3) }));
    const server = await fakeApiServer((res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(body);
    });
    const services = await source().listServices(cluster(server));
    expect(services.map((s) => s.metadata?.name)).toEqual(['svc-00000', 'svc-00001', 'svc-00002']);
  });

  it('refuses an answer that is not JSON or has no items, saying so, without retrying', async () => {
    for (const [text, words] of [
      ['<html>proxy login</html>', 'not JSON (24 characters)'],
      ['{"kind":"Status"}', 'no "items" array'],
    ] as const) {
      let calls = 0;
      const server = await fakeApiServer((res) => {
        calls++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(text);
      });
      const err = await source()
        .listServices(cluster(server))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(KubernetesError);
      expect((err as KubernetesError).kind).toBe(FailureKind.permanent);
      expect((err as KubernetesError).message).toContain(words);
      expect(calls).toBe(1);
    }
  });
});
