import { afterEach, describe, expect, it, vi } from 'vitest';
import { KubeCredentialProvider } from '../../../shared/aks/KubeCredentialProvider.js';
import { KubernetesServiceSource } from '../../../shared/kubernetes/KubernetesServiceSource.js';
import { memoryLogger } from '../../../shared/logger.js';
import {
  type KubernetesSimulator,
  startKubernetesSimulator,
} from '../../../sim/kubernetes/startKubernetesSimulator.js';
import { type ConnectProxy, startConnectProxy } from '../../helpers/connectProxy.js';
import { manyServices, recordingDelay, tokenCluster } from './aksTestKit.js';

let k8s: KubernetesSimulator | undefined;
let proxy: ConnectProxy | undefined;

afterEach(async () => {
  vi.unstubAllEnvs();
  await k8s?.stop();
  await proxy?.stop();
});

function proxyEnv(https: string, no = ''): void {
  for (const k of ['HTTPS_PROXY', 'https_proxy']) vi.stubEnv(k, https);
  for (const k of ['NO_PROXY', 'no_proxy']) vi.stubEnv(k, no);
  for (const k of ['ALL_PROXY', 'all_proxy']) vi.stubEnv(k, '');
}

function source(): KubernetesServiceSource {
  const access = new KubeCredentialProvider({
    credential: () => {
      throw new Error('no Azure credential in token mode');
    },
  });
  return new KubernetesServiceSource({ access, delay: recordingDelay(), logger: memoryLogger() });
}

describe('Kubernetes API through HTTPS_PROXY (client-node 1.4 reads no proxy variables itself)', () => {
  it('tunnels to the API server with CONNECT and still verifies the cluster CA', async () => {
    k8s = await startKubernetesSimulator({ services: manyServices(3) });
    proxy = await startConnectProxy({ username: 'egress', password: 'K8s-Pr0xy-Pw' });
    proxyEnv(proxy.url);
    const services = await source().listServices(tokenCluster('aks-px', k8s));
    expect(services).toHaveLength(3);
    expect(proxy.connects.map((c) => [c.target, c.tunnelled])).toEqual([
      [`127.0.0.1:${new URL(k8s.url).port}`, true],
    ]);
  });

  it('NO_PROXY bypasses the proxy for the API server', async () => {
    k8s = await startKubernetesSimulator({ services: manyServices(1) });
    proxy = await startConnectProxy();
    proxyEnv(proxy.url, '127.0.0.1');
    await expect(source().listServices(tokenCluster('aks-np', k8s))).resolves.toHaveLength(1);
    expect(proxy.connects).toEqual([]);
  });
});
