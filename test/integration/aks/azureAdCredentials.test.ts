import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createAksAdapters } from '../../../shared/aks/createAksAdapters.js';
import { AzureError, FailureKind, KubernetesError } from '../../../shared/errors.js';
import { memoryLogger } from '../../../shared/logger.js';
import { startArmSimulator } from '../../../sim/arm/startArmSimulator.js';
import { makeService } from '../../../sim/kubernetes/makeService.js';
import { startKubernetesSimulator } from '../../../sim/kubernetes/startKubernetesSimulator.js';
import { fakeCredential, recordingDelay, SUB_A } from './aksTestKit.js';

const stops: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s.stop()));
});

const AKS_TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.aks-test-token.sig';
const OTHER_CA = readFileSync(new URL('../../fixtures/aks/other-ca.pem', import.meta.url)).toString('base64');
const ARM_TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.arm-test-token.sig';

async function world(options: { expiresInMs?: number } = {}) {
  const k8s = await startKubernetesSimulator({
    token: AKS_TOKEN,
    services: [
      makeService({ name: 'web', namespace: 'shop', labels: { app: 'web' }, ips: ['10.20.0.4'] }),
      makeService({ name: 'api', namespace: 'shop', ips: ['10.20.0.5'] }),
    ],
  });
  stops.push(k8s);
  const arm = await startArmSimulator({
    token: ARM_TOKEN,
    clusters: [
      {
        subscriptionId: SUB_A,
        resourceGroup: 'rg-spoke',
        name: 'aks-aad',
        tags: { panorama: 'dg-spoke' },
        apiServer: { url: k8s.url, ...(k8s.caData ? { caData: k8s.caData } : {}) },
      },
    ],
  });
  stops.push(arm);
  let now = 5_000_000;
  const credential = fakeCredential(
    { arm: ARM_TOKEN, aks: AKS_TOKEN },
    options.expiresInMs ?? 3_600_000,
    () => now,
  );
  const logger = memoryLogger();
  const aks = createAksAdapters({
    config: { clusters: [], discovery: { subscriptions: [SUB_A], tag: 'panorama' }, armEndpoint: arm.url },
    credential,
    logger,
    now: () => now,
    arm: { tlsCa: arm.caPem, retryOptions: { maxRetries: 0 } },
    kubernetes: { delay: recordingDelay() },
  });
  return {
    k8s,
    arm,
    credential,
    logger,
    aks,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

function secretsIn(value: unknown): string {
  return `${String(value)}\n${inspect(value, { depth: 6 })}\n${JSON.stringify(value)}`;
}

describe('azureAd credentials via listClusterUserCredentials', () => {
  it('reads server and CA from the user kubeconfig and calls the API with the Entra token', async () => {
    const w = await world();

    const [cluster] = await w.aks.clusters.listClusters();
    if (!cluster) throw new Error('no cluster discovered');
    const services = await w.aks.services.listServices(cluster);

    expect(services.map((s) => s.metadata?.name).sort()).toEqual(['api', 'web']);
    expect(w.credential.scopes).toContain('6dae42f8-4368-4678-94ff-3960e28e3630/.default');
    expect(w.arm.requests.filter((r) => r.path.endsWith('/listClusterUserCredential'))).toHaveLength(1);
    expect(w.k8s.requests.map((r) => r.status)).toEqual([200]);
    expect(JSON.stringify(w.logger.lines)).not.toContain(AKS_TOKEN);
    expect(JSON.stringify(w.logger.lines)).not.toContain('certificate-authority-data');
  });

  it('rebuilds the KubeConfig with a new token before the old one expires', async () => {
    const w = await world({ expiresInMs: 60 * 60_000 });
    const [cluster] = await w.aks.clusters.listClusters();
    if (!cluster) throw new Error('no cluster discovered');
    const first = await w.aks.credentials.access(cluster);
    await w.aks.services.listServices(cluster);

    w.advance(50 * 60_000);
    expect(await w.aks.credentials.access(cluster)).toBe(first);
    w.advance(6 * 60_000);
    w.credential.aksToken = `${AKS_TOKEN}.rotated`;
    w.k8s.setToken(`${AKS_TOKEN}.rotated`);
    const second = await w.aks.credentials.access(cluster);
    const services = await w.aks.services.listServices(cluster);

    expect(second).not.toBe(first);
    expect(services).toHaveLength(2);
    expect(w.credential.scopes.filter((s) => s.startsWith('6dae42f8'))).toHaveLength(2);
    expect(w.k8s.requests.map((r) => r.status)).toEqual([200, 200]);
  });

  it('names the AKS Cluster User Role when listClusterUserCredential is denied, without tokens', async () => {
    const w = await world();
    w.arm.denyAction('Microsoft.ContainerService/managedClusters/listClusterUserCredential/action');
    const [cluster] = await w.aks.clusters.listClusters();
    if (!cluster) throw new Error('no cluster discovered');

    const err = await w.aks.services.listServices(cluster).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AzureError);
    expect((err as AzureError).kind).toBe(FailureKind.authentication);
    expect((err as AzureError).message).toContain('"Azure Kubernetes Service Cluster User Role"');
    expect((err as AzureError).message).toContain('listClusterUserCredential/action');
    expect(secretsIn(err)).not.toContain(ARM_TOKEN);
    expect(secretsIn(err)).not.toContain(AKS_TOKEN);
    expect(w.k8s.requests).toHaveLength(0);
  });

  it('re-reads the kubeconfig from ARM once when the cached CA does not verify the server', async () => {
    const w = await world();
    const [cluster] = await w.aks.clusters.listClusters();
    if (!cluster?.resourceId) throw new Error('no cluster discovered');
    const right = { url: w.k8s.url, ...(w.k8s.caData ? { caData: w.k8s.caData } : {}) };
    w.arm.setApiServer(cluster.resourceId, { url: w.k8s.url, caData: OTHER_CA });
    await w.aks.credentials.access(cluster);
    w.arm.setApiServer(cluster.resourceId, right);

    const services = await w.aks.services.listServices(cluster);

    expect(services).toHaveLength(2);
    expect(w.arm.requests.filter((r) => r.path.endsWith('/listClusterUserCredential'))).toHaveLength(2);
    expect(w.logger.lines.some((l) => l.message.includes('refreshing cluster credentials'))).toBe(true);
  });

  it('names the ARM-provided CA when it keeps failing TLS verification', async () => {
    const w = await world();
    const [cluster] = await w.aks.clusters.listClusters();
    if (!cluster?.resourceId) throw new Error('no cluster discovered');
    w.arm.setApiServer(cluster.resourceId, { url: w.k8s.url, caData: OTHER_CA });

    const err = await w.aks.services.listServices(cluster).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(KubernetesError);
    expect((err as KubernetesError).kind).toBe(FailureKind.permanent);
    expect((err as KubernetesError).message).toContain('TLS verification');
    expect((err as KubernetesError).message).toContain('CA from listClusterUserCredential');
    expect(w.k8s.requests).toHaveLength(0);
  });

  it.each([
    ['IPv4-mapped loopback over http', (port: number) => `http://[::ffff:127.0.0.1]:${port}`, 'http://'],
    ['hex IPv4-mapped loopback over http', (port: number) => `http://[::ffff:7f00:1]:${port}`, 'http://'],
    ['loopback over http', (port: number) => `http://127.0.0.1:${port}`, 'http://'],
    ['credentials in the URL', (port: number) => `https://admin:pw-in-url@127.0.0.1:${port}`, 'credentials'],
    ['a server that does not parse', () => 'https://aks aad.example', 'not a URL'],
  ])('refuses an ARM kubeconfig naming %s before sending the Entra token', async (_, server, reason) => {
    const w = await world();
    const plain = await startKubernetesSimulator({ token: AKS_TOKEN, tls: false });
    stops.push(plain);
    const [cluster] = await w.aks.clusters.listClusters();
    if (!cluster?.resourceId) throw new Error('no cluster discovered');
    w.arm.setApiServer(cluster.resourceId, { url: server(Number(new URL(plain.url).port)) });

    const err = await w.aks.services.listServices(cluster).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AzureError);
    expect((err as AzureError).kind).toBe(FailureKind.permanent);
    expect((err as AzureError).message).toContain('Cluster "aks-aad"');
    expect((err as AzureError).message).toContain('listClusterUserCredential');
    expect((err as AzureError).message).toContain(reason);
    expect(plain.requests).toHaveLength(0);
    expect(w.k8s.requests).toHaveLength(0);
    expect(w.credential.scopes.filter((s) => s.startsWith('6dae42f8'))).toHaveLength(0);
    expect(secretsIn(err)).not.toContain(AKS_TOKEN);
    expect(secretsIn(err)).not.toContain('pw-in-url');
  });

  it('explains a missing Entra ID token', async () => {
    const k8s = await startKubernetesSimulator({ token: AKS_TOKEN });
    stops.push(k8s);
    const aks = createAksAdapters({
      config: {
        clusters: [
          {
            name: 'aks-x',
            server: k8s.url,
            ...(k8s.caData ? { caData: k8s.caData } : {}),
            auth: { type: 'azureAd' },
            labelSelectors: [],
            deviceGroups: [],
          },
        ],
      },
      credential: {
        getToken: async () => {
          throw Object.assign(new Error('ManagedIdentityCredential: no managed identity endpoint found'), {
            name: 'CredentialUnavailableError',
          });
        },
      },
    });
    const [cluster] = await aks.clusters.listClusters();
    if (!cluster) throw new Error('no cluster');

    const err = await aks.services.listServices(cluster).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AzureError);
    expect((err as AzureError).kind).toBe(FailureKind.authentication);
    expect((err as AzureError).message).toContain('no managed identity endpoint found');
    expect((err as AzureError).message).toContain('AZURE_CLIENT_ID');
  });
});
