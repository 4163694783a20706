import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeCredentialProvider } from '../../../shared/aks/KubeCredentialProvider.js';
import type { ClusterConfig } from '../../../shared/config/loadConfig.js';
import { FailureKind, KubernetesError } from '../../../shared/errors.js';
import { KubernetesServiceSource } from '../../../shared/kubernetes/KubernetesServiceSource.js';
import { memoryLogger } from '../../../shared/logger.js';
import { makeService } from '../../../sim/kubernetes/makeService.js';
import {
  type KubernetesSimulator,
  startKubernetesSimulator,
} from '../../../sim/kubernetes/startKubernetesSimulator.js';
import { fakeCredential, manyServices, recordingDelay, tokenCluster } from './aksTestKit.js';

const sims: KubernetesSimulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

async function sim(options: Parameters<typeof startKubernetesSimulator>[0] = {}) {
  const s = await startKubernetesSimulator(options);
  sims.push(s);
  return s;
}

function source(options: Partial<ConstructorParameters<typeof KubernetesServiceSource>[0]> = {}) {
  const delay = recordingDelay();
  const logger = memoryLogger();
  const access = new KubeCredentialProvider({
    credential: () => {
      throw new Error('no Azure credential in token mode');
    },
  });
  return {
    delay,
    logger,
    source: new KubernetesServiceSource({ access, delay, logger, ...options }),
  };
}

function everything(err: unknown): string {
  return `${String(err)}\n${inspect(err, { depth: 5 })}\n${JSON.stringify(err)}`;
}

async function failure(p: Promise<unknown>): Promise<KubernetesError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KubernetesError);
  return err as KubernetesError;
}

describe('KubernetesServiceSource against the Kubernetes simulator', () => {
  it('pages through 2,500 Services and restarts the list when the continue token expires mid-way', async () => {
    const k8s = await sim({ services: manyServices(2_500) });
    k8s.injectFault({ type: 'expireContinue' });
    const { source: src, logger } = source();

    const services = await src.listServices(tokenCluster('aks-big', k8s));

    const keys = services.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`);
    expect(keys).toHaveLength(2_500);
    expect(new Set(keys).size).toBe(2_500);
    const pages = k8s.requests.filter((r) => r.path === '/api/v1/services');
    expect(pages.every((r) => r.query.limit === '1000')).toBe(true);
    expect(pages.filter((r) => r.status === 410)).toHaveLength(1);
    // first page, expired second page, then a fresh list of 3 pages (the default page size is 1000)
    expect(pages.map((r) => r.query.continue === undefined)).toEqual([true, false, true, false, false]);
    expect(logger.lines.some((l) => l.message.includes('410 Gone'))).toBe(true);
  });

  it('returns plain Services with the fields the tag engine reads', async () => {
    const k8s = await sim({
      services: [
        makeService({ name: 'web', namespace: 'shop', labels: { app: 'web' }, ips: ['10.1.0.4', 'fd00::4'] }),
        makeService({ name: 'db', type: 'ClusterIP' }),
      ],
    });
    const { source: src } = source();

    const services = await src.listServices(tokenCluster('aks-1', k8s));

    const web = services.find((s) => s.metadata?.name === 'web');
    expect(web).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'web',
        namespace: 'shop',
        labels: { app: 'web' },
        annotations: { 'service.beta.kubernetes.io/azure-load-balancer-internal': 'true' },
        resourceVersion: expect.any(String),
      },
      spec: { type: 'LoadBalancer', clusterIP: expect.any(String) },
      status: { loadBalancer: { ingress: [{ ip: '10.1.0.4' }, { ip: 'fd00::4' }] } },
    });
    expect(Object.getPrototypeOf(web)).toBe(Object.prototype);
    expect(services.find((s) => s.metadata?.name === 'db')?.spec?.type).toBe('ClusterIP');
  });

  it('talks plain HTTP to a loopback simulator started with tls: false', async () => {
    const k8s = await sim({ tls: false, services: manyServices(4) });
    const { source: src } = source();

    const services = await src.listServices(tokenCluster('aks-http', k8s));

    expect(k8s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(k8s.caData).toBeUndefined();
    expect(services).toHaveLength(4);
  });

  it('sees mutations made through the simulator helpers', async () => {
    const k8s = await sim({ services: [makeService({ name: 'web', ips: [] })] });
    const { source: src } = source();
    const cluster = tokenCluster('aks-1', k8s);
    expect((await src.listServices(cluster))[0]?.status?.loadBalancer?.ingress).toBeUndefined();

    const before = Number(k8s.resourceVersion);
    k8s.setIngressIps('default', 'web', ['10.2.0.9']);
    k8s.setLabels('default', 'web', { tier: 'front' });
    k8s.addService(makeService({ name: 'api', namespace: 'b', ips: ['10.2.0.10'] }));
    k8s.deleteService('default', 'missing');

    const after = await src.listServices(cluster);
    expect(Number(k8s.resourceVersion)).toBe(before + 3);
    expect(after.map((s) => s.metadata?.name)).toEqual(['api', 'web']);
    const web = after.find((s) => s.metadata?.name === 'web');
    expect(web?.status?.loadBalancer?.ingress).toEqual([{ ip: '10.2.0.9' }]);
    expect(web?.metadata?.labels).toEqual({ tier: 'front' });
    expect(web?.metadata?.resourceVersion).toBe(String(before + 2));
  });

  it('retries 429 (honouring Retry-After), 500, 503 and connection resets with exponential backoff', async () => {
    const k8s = await sim({ services: manyServices(30) });
    k8s.injectFault({ type: 'status', code: 429, retryAfterSeconds: 2 });
    k8s.injectFault({ type: 'status', code: 500 });
    k8s.injectFault({ type: 'reset' });
    k8s.injectFault({ type: 'status', code: 503 }, { onlyWithContinue: true });
    const { source: src, delay } = source({ pageSize: 10, baseDelayMs: 100, maxDelayMs: 5_000 });

    const services = await src.listServices(tokenCluster('aks-1', k8s));

    expect(services).toHaveLength(30);
    // 429 waits for Retry-After (2 s > 100 ms), then 200 ms, 400 ms; the 503 on page 2 is a first retry again
    expect(delay.delays).toEqual([2_000, 200, 400, 100]);
    expect(k8s.requests.map((r) => r.status)).toEqual([429, 500, 0, 200, 503, 200, 200]);
  });

  it('times out a slow request and retries it', async () => {
    const k8s = await sim({ services: manyServices(3) });
    k8s.injectFault({ type: 'latency', ms: 5_000 });
    const { source: src, delay } = source({ requestTimeoutMs: 200, baseDelayMs: 10 });

    const services = await src.listServices(tokenCluster('aks-1', k8s));

    expect(services).toHaveLength(3);
    expect(delay.delays).toEqual([10]);
  });

  it('gives up after maxAttempts with a retryable error', async () => {
    const k8s = await sim({ services: manyServices(3) });
    k8s.injectFault({ type: 'status', code: 503 }, { times: 10 });
    const { source: src, delay } = source({ maxAttempts: 3, baseDelayMs: 1 });

    const err = await failure(src.listServices(tokenCluster('aks-1', k8s)));

    expect(err.kind).toBe(FailureKind.retryable);
    expect(err.message).toContain('after 3 attempts');
    expect(err.message).toContain('503');
    expect(delay.delays).toEqual([1, 2]);
  });

  it('stops relisting after maxRelists expiries in a row', async () => {
    const k8s = await sim({ services: manyServices(20) });
    k8s.injectFault({ type: 'expireContinue' }, { times: 10 });
    const { source: src } = source({ pageSize: 5, maxRelists: 2 });

    const err = await failure(src.listServices(tokenCluster('aks-1', k8s)));

    expect(err.kind).toBe(FailureKind.retryable);
    expect(err.message).toContain('expired 3 times');
    expect(k8s.requests.filter((r) => r.status === 410)).toHaveLength(3);
  });

  it('explains a rejected service-account token (401) without revealing it', async () => {
    const k8s = await sim({ token: 'the-right-token-0123456789' });
    const { source: src, logger } = source();
    const cluster = tokenCluster('aks-1', { ...k8s, token: 'sa-token-SECRET-abcdef-987654' });

    const err = await failure(src.listServices(cluster));

    expect(err.kind).toBe(FailureKind.authentication);
    expect(err.message).toContain('401 Unauthorized');
    expect(err.message).toContain('"view" ClusterRole');
    expect(everything(err)).not.toContain('sa-token-SECRET-abcdef-987654');
    expect(JSON.stringify(logger.lines)).not.toContain('sa-token-SECRET-abcdef-987654');
    expect(k8s.requests).toHaveLength(1);
  });

  it('names the view ClusterRole binding when a service account may not list Services (403)', async () => {
    const k8s = await sim({});
    k8s.setForbidden({ user: 'system:serviceaccount:panorama:reader' });
    const { source: src } = source();

    const err = await failure(src.listServices(tokenCluster('aks-1', k8s)));

    expect(err.kind).toBe(FailureKind.authentication);
    expect(err.message).toContain(
      'services is forbidden: User "system:serviceaccount:panorama:reader" cannot list resource "services" in API group "" at the cluster scope',
    );
    expect(err.message).toContain('kubectl create clusterrolebinding');
    expect(err.message).toContain('--clusterrole=view');
    expect(everything(err)).not.toContain(k8s.token);
  });

  it('names the CA setting when the server certificate is not trusted', async () => {
    const k8s = await sim({});
    const { source: src } = source({ maxAttempts: 2, baseDelayMs: 1 });
    const cluster = { ...tokenCluster('aks-1', k8s), caData: undefined };
    delete cluster.caData;

    const err = await failure(src.listServices(cluster));

    expect(err.kind).toBe(FailureKind.permanent);
    expect(err.message).toMatch(
      /TLS verification .* failed \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/,
    );
    expect(err.message).toContain('"caData"');
    expect(k8s.requests).toHaveLength(0);
  });

  it('uses an Entra ID token with server and caData given directly (azureAd without ARM)', async () => {
    const k8s = await sim({ token: 'aad-token-for-aks-xyz-12345' });
    const credential = fakeCredential({ arm: 'unused-arm-token', aks: 'aad-token-for-aks-xyz-12345' });
    const access = new KubeCredentialProvider({ credential: () => credential });
    const src = new KubernetesServiceSource({ access, delay: recordingDelay() });
    k8s.addService(makeService({ name: 'web', ips: ['10.3.0.1'] }));
    const cluster: ClusterConfig = {
      name: 'aks-aad',
      server: k8s.url,
      ...(k8s.caData ? { caData: k8s.caData } : {}),
      auth: { type: 'azureAd' },
      labelSelectors: [],
      deviceGroups: [],
    };

    const services = await src.listServices(cluster);

    expect(services.map((s) => s.metadata?.name)).toEqual(['web']);
    expect(credential.scopes).toEqual(['6dae42f8-4368-4678-94ff-3960e28e3630/.default']);
  });

  it('names the AKS RBAC Reader role when an Entra ID identity is forbidden (403)', async () => {
    const k8s = await sim({ token: 'aad-token-for-aks-xyz-12345' });
    k8s.setForbidden({ user: '3f1b0c2e-0000-4000-8000-000000000001', azureRbac: true });
    const credential = fakeCredential({ arm: 'unused', aks: 'aad-token-for-aks-xyz-12345' });
    const src = new KubernetesServiceSource({
      access: new KubeCredentialProvider({ credential: () => credential }),
      delay: recordingDelay(),
    });
    const cluster: ClusterConfig = {
      name: 'aks-aad',
      server: k8s.url,
      ...(k8s.caData ? { caData: k8s.caData } : {}),
      auth: { type: 'azureAd' },
      labelSelectors: [],
      deviceGroups: [],
    };

    const err = await failure(src.listServices(cluster));

    expect(err.kind).toBe(FailureKind.authentication);
    expect(err.message).toContain('"Azure Kubernetes Service RBAC Reader"');
    expect(err.message).toContain('User does not have access to the resource in Azure');
    expect(everything(err)).not.toContain('aad-token-for-aks-xyz-12345');
  });

  it('refreshes an Entra ID token once after a 401 and succeeds with the new one', async () => {
    const k8s = await sim({ token: 'aad-token-new-000000001' });
    k8s.addService(makeService({ name: 'web', ips: ['10.3.0.1'] }));
    const credential = fakeCredential({ arm: 'unused', aks: 'aad-token-old-000000000' });
    const provider = new KubeCredentialProvider({ credential: () => credential });
    const src = new KubernetesServiceSource({ access: provider, delay: recordingDelay() });
    const cluster: ClusterConfig = {
      name: 'aks-aad',
      server: k8s.url,
      ...(k8s.caData ? { caData: k8s.caData } : {}),
      auth: { type: 'azureAd' },
      labelSelectors: [],
      deviceGroups: [],
    };
    const warm = await provider.access(cluster);
    expect(warm.authType).toBe('azureAd');
    credential.aksToken = 'aad-token-new-000000001';

    const services = await src.listServices(cluster);

    expect(services).toHaveLength(1);
    expect(k8s.requests.map((r) => r.status)).toEqual([401, 200]);
  });
});
