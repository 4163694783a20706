import http from 'node:http';
import https from 'node:https';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { describe, expect, it } from 'vitest';
import { FailureKind, KubernetesError } from '../../../shared/errors.js';
import { createKubeAgent } from '../../../shared/kubernetes/createKubeAgent.js';

const cluster = (over: Partial<Parameters<typeof createKubeAgent>[0]>) => ({
  name: 'aks-1',
  server: 'https://aks-1.example:443',
  skipTLSVerify: false,
  ...over,
});

describe('createKubeAgent', () => {
  it.each([
    ['https server', cluster({}), https.Agent],
    [
      'http server marked insecure-skip-tls-verify',
      cluster({ server: 'http://127.0.0.1:8080', skipTLSVerify: true }),
      http.Agent,
    ],
    ['proxy-url', cluster({ proxyUrl: 'http://proxy.example:3128' }), HttpsProxyAgent],
  ])('%s: a keep-alive %s', (_name, c, kind) => {
    const agent = createKubeAgent(c, {});
    try {
      expect(agent).toBeInstanceOf(kind);
      expect((agent as http.Agent & { keepAlive: boolean }).keepAlive).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it('keeps the CA and server name for the TLS session to the API server', () => {
    const agent = createKubeAgent(cluster({}), { ca: 'PEM', servername: 'aks-1.internal' });
    expect((agent as https.Agent).options).toMatchObject({
      ca: 'PEM',
      servername: 'aks-1.internal',
      keepAlive: true,
    });
    agent.destroy();
  });

  it.each([
    [
      'a SOCKS proxy',
      cluster({ proxyUrl: 'socks5://proxy.example:1080' }),
      'only http:// and https:// proxies',
    ],
    [
      'plain HTTP without insecure-skip-tls-verify',
      cluster({ server: 'http://10.0.0.1:80' }),
      'plain HTTP is only allowed',
    ],
  ])('refuses %s, naming the cluster', (_name, c, words) => {
    let err: unknown;
    try {
      createKubeAgent(c, {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KubernetesError);
    expect((err as KubernetesError).kind).toBe(FailureKind.permanent);
    expect((err as KubernetesError).message).toContain('cluster "aks-1"');
    expect((err as KubernetesError).message).toContain(words);
  });
});
