import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Service,
} from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { makeService } from '../../../sim/kubernetes/makeService.js';
import {
  type KubernetesSimulator,
  startKubernetesSimulator,
} from '../../../sim/kubernetes/startKubernetesSimulator.js';

/**
 * The Kubernetes simulator takes writes the way the API server does, so the demo can be changed
 * with the client every Kubernetes tool uses (`@kubernetes/client-node` here).
 */
const sims: KubernetesSimulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

async function start(): Promise<{
  sim: KubernetesSimulator;
  api: CoreV1Api;
  apiWithToken(t: string): CoreV1Api;
}> {
  const sim = await startKubernetesSimulator({
    services: [
      makeService({ namespace: 'shop', name: 'checkout', ips: ['10.240.0.10'], labels: { app: 'web' } }),
    ],
  });
  sims.push(sim);
  const apiWithToken = (token: string) => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'sim', server: sim.url, caData: sim.caData }],
      users: [{ name: 'u', token }],
      contexts: [{ name: 'sim', cluster: 'sim', user: 'u' }],
      currentContext: 'sim',
    });
    return kc.makeApiClient(CoreV1Api);
  };
  return { sim, api: apiWithToken(sim.token), apiWithToken };
}

function internalLb(name: string, extra: Partial<V1Service['metadata']> = {}, ip?: string): V1Service {
  return {
    metadata: {
      name,
      labels: { app: 'web' },
      annotations: {
        'service.beta.kubernetes.io/azure-load-balancer-internal': 'true',
        ...(ip ? { 'service.beta.kubernetes.io/azure-load-balancer-ipv4': ip } : {}),
      },
      ...extra,
    },
    spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
  };
}

/** The `Status` body and HTTP code of a rejected call. */
async function rejection(call: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ApiException) {
      // client-node drops the body of a 401 ("Unauthorized", body undefined).
      const body = typeof err.body === 'string' ? JSON.parse(err.body) : {};
      return { code: err.code, body };
    }
    throw err;
  }
  throw new Error('the call succeeded');
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describe('Kubernetes simulator write API (client-node CoreV1Api)', () => {
  it('creates a Service (201), gives it the requested IP or a free one, and refuses a second create with 409 AlreadyExists', async () => {
    const { sim, api } = await start();
    const before = Number(sim.resourceVersion);
    const created = await api.createNamespacedService({
      namespace: 'shop',
      body: internalLb('search', {}, '10.240.0.20'),
    });
    expect(created.metadata?.namespace).toBe('shop');
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(created.metadata?.resourceVersion)).toBe(before + 1);
    expect(created.spec?.clusterIP).toMatch(/^10\.0\./);
    expect(created.status?.loadBalancer?.ingress?.map((i) => i.ip)).toEqual(['10.240.0.20']);
    const assigned = await api.createNamespacedService({ namespace: 'shop', body: internalLb('cart') });
    expect(assigned.status?.loadBalancer?.ingress?.[0]?.ip).toBe('10.240.0.100');
    expect(sim.getService('shop', 'search')?.status?.loadBalancer?.ingress?.[0]?.ip).toBe('10.240.0.20');

    const again = await rejection(
      api.createNamespacedService({ namespace: 'shop', body: internalLb('search') }),
    );
    expect(again.code).toBe(409);
    expect(again.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'AlreadyExists',
      message: 'services "search" already exists',
      details: { name: 'search', kind: 'services' },
      code: 409,
    });
  });

  it('merge-patches labels (null removes one), keeps the IP and status, and bumps the resourceVersion', async () => {
    const { sim, api } = await start();
    const before = Number(sim.resourceVersion);
    const patched = await api.patchNamespacedService(
      { namespace: 'shop', name: 'checkout', body: { metadata: { labels: { tier: 'edge', app: null } } } },
      mergePatch,
    );
    expect(patched.metadata?.labels).toEqual({ tier: 'edge' });
    expect(patched.status?.loadBalancer?.ingress?.map((i) => i.ip)).toEqual(['10.240.0.10']);
    expect(Number(patched.metadata?.resourceVersion)).toBe(before + 1);
    const listed = await api.listServiceForAllNamespaces();
    expect(listed.items.find((s) => s.metadata?.name === 'checkout')?.metadata?.labels).toEqual({
      tier: 'edge',
    });
  });

  it('replaces a Service with PUT, 409 Conflict on a stale resourceVersion, 404 for a missing one', async () => {
    const { api } = await start();
    const current = await api.readNamespacedService({ namespace: 'shop', name: 'checkout' });
    const replaced = await api.replaceNamespacedService({
      namespace: 'shop',
      name: 'checkout',
      body: { ...current, metadata: { ...current.metadata, labels: { app: 'web', tier: 'front' } } },
    });
    expect(replaced.metadata?.labels).toEqual({ app: 'web', tier: 'front' });
    expect(replaced.metadata?.uid).toBe(current.metadata?.uid);
    expect(replaced.status?.loadBalancer?.ingress?.[0]?.ip).toBe('10.240.0.10');

    const stale = await rejection(
      api.replaceNamespacedService({ namespace: 'shop', name: 'checkout', body: current }),
    );
    expect(stale.code).toBe(409);
    expect(stale.body).toMatchObject({ reason: 'Conflict', details: { name: 'checkout', kind: 'services' } });
    expect(String(stale.body.message)).toContain('the object has been modified');

    const missing = await rejection(
      api.replaceNamespacedService({ namespace: 'shop', name: 'nope', body: internalLb('nope') }),
    );
    expect(missing).toMatchObject({
      code: 404,
      body: { reason: 'NotFound', message: 'services "nope" not found' },
    });
  });

  it('deletes a Service (returns it, bumps the resourceVersion) and answers 404 NotFound the second time', async () => {
    const { sim, api } = await start();
    const before = Number(sim.resourceVersion);
    const deleted = await api.deleteNamespacedService({ namespace: 'shop', name: 'checkout' });
    expect(deleted.metadata?.name).toBe('checkout');
    expect(Number(sim.resourceVersion)).toBe(before + 1);
    expect(sim.getService('shop', 'checkout')).toBeUndefined();
    const again = await rejection(api.deleteNamespacedService({ namespace: 'shop', name: 'checkout' }));
    expect(again).toMatchObject({
      code: 404,
      body: { kind: 'Status', reason: 'NotFound', message: 'services "checkout" not found', code: 404 },
    });
  });

  it('refuses what the API server refuses: 422 Invalid names and labels, 401 without the token, 403 in forbidden mode', async () => {
    const { sim, api, apiWithToken } = await start();
    const badName = await rejection(
      api.createNamespacedService({ namespace: 'shop', body: internalLb('Bad_Name') }),
    );
    expect(badName.code).toBe(422);
    expect(badName.body).toMatchObject({ reason: 'Invalid', details: { name: 'Bad_Name', kind: 'Service' } });
    expect(String(badName.body.message)).toMatch(
      /^Service "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a DNS-1035 label/,
    );
    const badLabel = await rejection(
      api.patchNamespacedService(
        { namespace: 'shop', name: 'checkout', body: { metadata: { labels: { tier: 'not ok' } } } },
        mergePatch,
      ),
    );
    expect(badLabel.code).toBe(422);
    expect(String(badLabel.body.message)).toContain('metadata.labels: Invalid value: "not ok"');
    expect(sim.getService('shop', 'checkout')?.metadata?.labels).toEqual({ app: 'web' });

    const unauthorized = await rejection(
      apiWithToken('wrong-token').deleteNamespacedService({ namespace: 'shop', name: 'checkout' }),
    );
    expect(unauthorized.code).toBe(401);
    expect(sim.getService('shop', 'checkout')).toBeDefined();
    sim.setForbidden(true);
    const forbidden = await rejection(
      api.createNamespacedService({ namespace: 'shop', body: internalLb('x') }),
    );
    expect(forbidden.code).toBe(403);
    expect(String(forbidden.body.message)).toContain(
      'cannot create resource "services" in API group "" in the namespace "shop"',
    );
    expect(sim.getService('shop', 'checkout')).toBeDefined();
  });

  it('answers a JSON patch (the client default) with 415, naming the media types it takes', async () => {
    const { api } = await start();
    const refused = await rejection(
      api.patchNamespacedService({
        namespace: 'shop',
        name: 'checkout',
        body: [{ op: 'remove', path: '/metadata/labels' }],
      }),
    );
    expect(refused.code).toBe(415);
    expect(refused.body).toMatchObject({ reason: 'UnsupportedMediaType' });
    expect(String(refused.body.message)).toContain('application/merge-patch+json');
  });
});
