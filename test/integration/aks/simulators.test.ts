import https from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { parseKubeconfigEndpoint } from '../../../shared/aks/parseKubeconfigEndpoint.js';
import { startArmSimulator } from '../../../sim/arm/startArmSimulator.js';
import { loadTestTls } from '../../../sim/kubernetes/loadTestTls.js';
import { makeService } from '../../../sim/kubernetes/makeService.js';
import { startKubernetesSimulator } from '../../../sim/kubernetes/startKubernetesSimulator.js';
import { SUB_A } from './aksTestKit.js';

const stops: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s.stop()));
});

const CA = loadTestTls().ca;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

function call(url: string, options: { token?: string; method?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: options.method ?? 'GET',
        ca: CA,
        headers: options.token ? { Authorization: `Bearer ${options.token}` } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('Kubernetes API simulator wire format', () => {
  async function k8s() {
    const sim = await startKubernetesSimulator({
      token: 'wire-token-123456',
      services: ['a', 'b', 'c', 'd', 'e'].map((name, i) =>
        makeService({ name, namespace: i < 2 ? 'x' : 'y', ips: [`10.0.9.${i}`] }),
      ),
    });
    stops.push(sim);
    return sim;
  }

  it('answers 401 with an Unauthorized Status without a valid bearer token', async () => {
    const sim = await k8s();
    for (const token of [undefined, 'wrong-token-000000']) {
      const reply = await call(`${sim.url}/api/v1/services`, token ? { token } : {});
      expect(reply.status).toBe(401);
      expect(reply.body).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Unauthorized',
        reason: 'Unauthorized',
        code: 401,
      });
    }
  });

  it('pages a consistent snapshot with limit/continue and answers an expired token with 410 Expired', async () => {
    const sim = await k8s();
    const first = await call(`${sim.url}/api/v1/services?limit=2`, { token: sim.token });
    const meta = first.body.metadata as {
      resourceVersion: string;
      continue: string;
      remainingItemCount: number;
    };
    expect(first.body.kind).toBe('ServiceList');
    expect((first.body.items as { metadata: { name: string } }[]).map((s) => s.metadata.name)).toEqual([
      'a',
      'b',
    ]);
    expect((first.body.items as Record<string, unknown>[])[0]).not.toHaveProperty('kind');
    expect(meta.remainingItemCount).toBe(3);

    sim.addService(makeService({ name: 'aa', namespace: 'x', ips: ['10.0.9.99'] }));
    sim.deleteService('y', 'e');
    const second = await call(
      `${sim.url}/api/v1/services?limit=2&continue=${encodeURIComponent(meta.continue)}`,
      {
        token: sim.token,
      },
    );
    expect((second.body.items as { metadata: { name: string } }[]).map((s) => s.metadata.name)).toEqual([
      'c',
      'd',
    ]);
    expect((second.body.metadata as { resourceVersion: string }).resourceVersion).toBe(meta.resourceVersion);

    sim.expireContinueTokens();
    const next = (second.body.metadata as { continue: string }).continue;
    const gone = await call(`${sim.url}/api/v1/services?limit=2&continue=${encodeURIComponent(next)}`, {
      token: sim.token,
    });
    expect(gone.status).toBe(410);
    expect(gone.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Expired', code: 410 });
    expect(gone.body.message).toMatch(
      /^The provided continue parameter is too old to display a consistent list result/,
    );
  });

  it('pages one namespace by limit/continue among neighbours sharing its prefix', async () => {
    const sim = await startKubernetesSimulator({
      token: 'ns-page-token-123456',
      services: [
        ...['a', 'b', 'c'].map((name) => makeService({ name, namespace: 'x' })),
        makeService({ name: 'a', namespace: 'x-1' }),
        makeService({ name: 'a', namespace: 'x0' }),
        makeService({ name: 'z', namespace: 'w' }),
      ],
    });
    stops.push(sim);
    const seen: string[][] = [];
    const remaining: unknown[] = [];
    let cont = '';
    do {
      const query = `limit=2${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`;
      const page = await call(`${sim.url}/api/v1/namespaces/x/services?${query}`, { token: sim.token });
      const items = page.body.items as { metadata: { namespace: string; name: string } }[];
      seen.push(items.map((s) => `${s.metadata.namespace}/${s.metadata.name}`));
      const meta = page.body.metadata as { continue?: string; remainingItemCount?: number };
      remaining.push(meta.remainingItemCount);
      cont = meta.continue ?? '';
    } while (cont);
    expect(seen).toEqual([['x/a', 'x/b'], ['x/c']]);
    expect(remaining).toEqual([1, undefined]);
    const all = await call(`${sim.url}/api/v1/services?limit=4`, { token: sim.token });
    const names = (all.body.items as { metadata: { namespace: string; name: string } }[]).map(
      (s) => `${s.metadata.namespace}/${s.metadata.name}`,
    );
    expect(names).toEqual(['w/z', 'x-1/a', 'x/a', 'x/b']);
    expect((all.body.metadata as { remainingItemCount: number }).remainingItemCount).toBe(2);
  });

  it('expires continue tokens after continueTtlMs on its injected clock', async () => {
    let now = 0;
    const sim = await startKubernetesSimulator({
      token: 'ttl-token-123456',
      continueTtlMs: 1_000,
      now: () => now,
      services: ['a', 'b', 'c'].map((name) => makeService({ name })),
    });
    stops.push(sim);
    const first = await call(`${sim.url}/api/v1/services?limit=1`, { token: sim.token });
    const token = encodeURIComponent((first.body.metadata as { continue: string }).continue);
    now = 999;
    expect(
      (await call(`${sim.url}/api/v1/services?limit=1&continue=${token}`, { token: sim.token })).status,
    ).toBe(200);
    now = 1_000;
    expect(
      (await call(`${sim.url}/api/v1/services?limit=1&continue=${token}`, { token: sim.token })).status,
    ).toBe(410);
  });

  it('words 403 as the RBAC authorizer does and serves single Services, 404s, faults and /version', async () => {
    const sim = await k8s();
    expect(
      (await call(`${sim.url}/api/v1/namespaces/x/services/a`, { token: sim.token })).body,
    ).toMatchObject({
      kind: 'Service',
      apiVersion: 'v1',
      metadata: { name: 'a', namespace: 'x' },
    });
    expect(
      (await call(`${sim.url}/api/v1/namespaces/x/services/zz`, { token: sim.token })).body,
    ).toMatchObject({
      reason: 'NotFound',
      message: 'services "zz" not found',
      code: 404,
    });
    expect((await call(`${sim.url}/version`)).body.gitVersion).toMatch(/^v1\./);

    sim.injectFault({ type: 'status', code: 429, retryAfterSeconds: 3 });
    const throttled = await call(`${sim.url}/api/v1/services`, { token: sim.token });
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBe('3');
    expect(throttled.body).toMatchObject({ reason: 'TooManyRequests', details: { retryAfterSeconds: 3 } });

    sim.setForbidden(true);
    const denied = await call(`${sim.url}/api/v1/namespaces/x/services`, { token: sim.token });
    expect(denied.status).toBe(403);
    expect(denied.body.message).toBe(
      'services is forbidden: User "system:serviceaccount:default:default" cannot list resource "services" in API group "" in the namespace "x"',
    );
    expect(sim.requests.every((r) => !JSON.stringify(r).includes(sim.token))).toBe(true);
  });
});

describe('ARM simulator wire format', () => {
  async function arm() {
    const sim = await startArmSimulator({
      token: 'arm-wire-token-123456',
      pageSize: 1,
      clusters: [
        { subscriptionId: SUB_A, resourceGroup: 'rg-1', name: 'aks-1', tags: { panorama: 'dg' } },
        { subscriptionId: SUB_A, resourceGroup: 'rg-1', name: 'aks-2', aad: false },
      ],
    });
    stops.push(sim);
    return sim;
  }
  const base = `/subscriptions/${SUB_A}/resourceGroups/rg-1/providers/Microsoft.ContainerService/managedClusters`;

  it('requires a bearer token and an api-version, with ARM error bodies', async () => {
    const sim = await arm();
    const anonymous = await call(`${sim.url}${base}?api-version=2026-04-01`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer authorization_uri=/);
    expect(anonymous.body).toEqual({
      error: {
        code: 'AuthenticationFailed',
        message: "Authentication failed. The 'Authorization' header is missing.",
      },
    });
    const noVersion = await call(`${sim.url}${base}`, { token: sim.token });
    expect(noVersion.status).toBe(400);
    expect((noVersion.body.error as { code: string }).code).toBe('MissingApiVersionParameter');
  });

  it('lists with nextLink paging and gets clusters case-insensitively', async () => {
    const sim = await arm();
    const page1 = await call(
      `${sim.url}/subscriptions/${SUB_A}/providers/Microsoft.ContainerService/managedClusters?api-version=2026-04-01`,
      {
        token: sim.token,
      },
    );
    expect((page1.body.value as unknown[]).length).toBe(1);
    expect(page1.body.nextLink).toMatch(/api-version=2026-04-01&%24skipToken=1$/);
    const page2 = await call(String(page1.body.nextLink), { token: sim.token });
    expect(page2.body.nextLink).toBeUndefined();
    const got = await call(`${sim.url}${base.toLowerCase()}/AKS-1?api-version=2026-04-01`, {
      token: sim.token,
    });
    expect(got.body).toMatchObject({
      id: `/subscriptions/${SUB_A}/resourcegroups/rg-1/providers/Microsoft.ContainerService/managedClusters/aks-1`,
      name: 'aks-1',
      type: 'Microsoft.ContainerService/ManagedClusters',
      tags: { panorama: 'dg' },
      properties: { nodeResourceGroup: 'MC_rg-1_aks-1_westeurope', aadProfile: { managed: true } },
    });
    const missing = await call(`${sim.url}${base}/nope?api-version=2026-04-01`, { token: sim.token });
    expect(missing.status).toBe(404);
    expect((missing.body.error as { code: string }).code).toBe('ResourceNotFound');
  });

  it('returns a base64 user kubeconfig (kubelogin exec user for Entra ID clusters)', async () => {
    const sim = await arm();
    const creds = await call(`${sim.url}${base}/aks-1/listClusterUserCredential?api-version=2026-04-01`, {
      token: sim.token,
      method: 'POST',
    });
    const [kc] = creds.body.kubeconfigs as { name: string; value: string }[];
    expect(kc?.name).toBe('clusterUser');
    const yaml = Buffer.from(kc?.value ?? '', 'base64').toString('utf8');
    expect(yaml).toContain('command: kubelogin');
    expect(parseKubeconfigEndpoint(yaml)).toEqual({
      server: expect.stringMatching(/^https:\/\/aks-1-dns-[0-9a-f]+\.hcp\.westeurope\.azmk8s\.io:443$/),
      caData: Buffer.from(CA).toString('base64'),
    });
    sim.denyAction(
      'Microsoft.ContainerService/managedClusters/listClusterUserCredential/action',
      `/subscriptions/${SUB_A}`,
    );
    const denied = await call(`${sim.url}${base}/aks-1/listClusterUserCredential?api-version=2026-04-01`, {
      token: sim.token,
      method: 'POST',
    });
    expect(denied.status).toBe(403);
    expect((denied.body.error as { message: string }).message).toContain(
      "does not have authorization to perform action 'Microsoft.ContainerService/managedClusters/listClusterUserCredential/action'",
    );
  });
});
