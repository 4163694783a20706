import { afterEach, describe, expect, it } from 'vitest';
import { createAksAdapters } from '../../../shared/aks/createAksAdapters.js';
import { findClusterByNodeResourceGroup, findClusterByResourceId } from '../../../shared/aks/findCluster.js';
import { type ClusterConfig, clusterResourceId } from '../../../shared/config/loadConfig.js';
import { AzureError, ConfigError, FailureKind } from '../../../shared/errors.js';
import { memoryLogger } from '../../../shared/logger.js';
import { type ArmSimulator, startArmSimulator } from '../../../sim/arm/startArmSimulator.js';
import { fakeCredential, SUB_A, SUB_B } from './aksTestKit.js';

const arms: ArmSimulator[] = [];
afterEach(async () => {
  await Promise.all(arms.splice(0).map((s) => s.stop()));
});

async function arm(options: Parameters<typeof startArmSimulator>[0] = {}) {
  const s = await startArmSimulator({ token: 'arm-test-token-0123456789', ...options });
  arms.push(s);
  return s;
}

function adapters(
  sim: ArmSimulator,
  config: { clusters?: ClusterConfig[]; subscriptions?: string[]; tag?: string },
  extra: { now?: () => number; cacheTtlMs?: number; staleOnErrorMs?: number } = {},
) {
  const logger = memoryLogger();
  const credential = fakeCredential({ arm: 'arm-test-token-0123456789', aks: 'unused-aks-token' });
  const aks = createAksAdapters({
    config: {
      clusters: config.clusters ?? [],
      ...(config.subscriptions
        ? { discovery: { subscriptions: config.subscriptions, tag: config.tag ?? 'panorama' } }
        : {}),
      armEndpoint: sim.url,
    },
    credential,
    logger,
    arm: { tlsCa: sim.caPem, retryOptions: { maxRetries: 2, retryDelayInMs: 1, maxRetryDelayInMs: 2 } },
    directory: {
      ...(extra.cacheTtlMs !== undefined ? { cacheTtlMs: extra.cacheTtlMs } : {}),
      ...(extra.staleOnErrorMs !== undefined ? { staleOnErrorMs: extra.staleOnErrorMs } : {}),
    },
    ...(extra.now ? { now: extra.now } : {}),
  });
  return { ...aks, logger, credential };
}

const explicit = (
  name: string,
  sub: string,
  rg: string,
  extra: Partial<ClusterConfig> = {},
): ClusterConfig => ({
  name,
  subscriptionId: sub,
  resourceGroup: rg,
  resourceId: clusterResourceId(sub, rg, name),
  auth: { type: 'azureAd' },
  labelSelectors: [],
  deviceGroups: [],
  ...extra,
});

describe('ArmClusterDirectory against the ARM simulator', () => {
  it('discovers tagged clusters across two subscriptions (paged) and ignores untagged ones', async () => {
    const sim = await arm({
      pageSize: 1,
      clusters: [
        {
          subscriptionId: SUB_A,
          resourceGroup: 'rg-spoke-1',
          name: 'aks-a1',
          tags: { panorama: 'dg-spoke-1' },
        },
        { subscriptionId: SUB_A, resourceGroup: 'rg-spoke-1', name: 'aks-a2', tags: { env: 'dev' } },
        {
          subscriptionId: SUB_A,
          resourceGroup: 'rg-spoke-2',
          name: 'aks-a3',
          tags: { PANORAMA: ' dg-2 , dg-3,dg-2 ' },
        },
        {
          subscriptionId: SUB_B,
          resourceGroup: 'rg-b',
          name: 'aks-b1',
          tags: { panorama: '' },
          location: 'northeurope',
        },
        { subscriptionId: SUB_B, resourceGroup: 'rg-b', name: 'aks-b2' },
      ],
    });
    const { clusters, credential } = adapters(sim, { subscriptions: [SUB_A, SUB_B] });

    const found = await clusters.listClusters();

    expect(found.map((c) => c.name).sort()).toEqual(['aks-a1', 'aks-a3', 'aks-b1']);
    const a3 = found.find((c) => c.name === 'aks-a3');
    expect(a3).toEqual({
      name: 'aks-a3',
      subscriptionId: SUB_A,
      resourceGroup: 'rg-spoke-2',
      nodeResourceGroup: 'MC_rg-spoke-2_aks-a3_westeurope',
      resourceId: `/subscriptions/${SUB_A}/resourcegroups/rg-spoke-2/providers/Microsoft.ContainerService/managedClusters/aks-a3`,
      auth: { type: 'azureAd' },
      labelSelectors: [],
      deviceGroups: ['dg-2', 'dg-3'],
    });
    expect(found.find((c) => c.name === 'aks-b1')?.deviceGroups).toEqual([]);
    expect(found.find((c) => c.name === 'aks-b1')?.nodeResourceGroup).toBe('MC_rg-b_aks-b1_northeurope');
    const listCalls = sim.requests.filter((r) => r.path.endsWith('/managedClusters'));
    expect(listCalls.length).toBeGreaterThanOrEqual(5);
    expect(sim.requests.every((r) => r.status === 200 && r.apiVersion === '2026-04-01')).toBe(true);
    expect(credential.scopes.every((s) => s === `${sim.url}/.default`)).toBe(true);
    // event mapping by resource ID (any casing) and by node resource group
    expect(findClusterByResourceId(found, clusterResourceId(SUB_A, 'RG-SPOKE-1', 'AKS-A1'))?.name).toBe(
      'aks-a1',
    );
    expect(
      findClusterByNodeResourceGroup(found, SUB_A.toUpperCase(), 'mc_rg-spoke-2_aks-a3_westeurope')?.name,
    ).toBe('aks-a3');
  });

  it('merges CLUSTERS with discovery: the explicit entry wins and gains the node resource group', async () => {
    const sim = await arm({
      clusters: [
        { subscriptionId: SUB_A, resourceGroup: 'rg-1', name: 'aks-1', tags: { panorama: 'dg-from-tag' } },
        { subscriptionId: SUB_A, resourceGroup: 'rg-2', name: 'aks-2', tags: { panorama: 'dg-2' } },
      ],
    });
    const mine = explicit('aks-1', SUB_A, 'RG-1', { deviceGroups: ['dg-explicit'] });
    const other: ClusterConfig = {
      name: 'aks-token',
      server: 'https://aks-token.example.net',
      auth: { type: 'token', token: 'x-token-123456' },
      labelSelectors: [],
      deviceGroups: [],
    };
    const { clusters } = adapters(sim, { clusters: [mine, other], subscriptions: [SUB_A] });

    const found = await clusters.listClusters();

    expect(found.map((c) => c.name)).toEqual(['aks-1', 'aks-token', 'aks-2']);
    expect(found[0]).toEqual({ ...mine, nodeResourceGroup: 'MC_rg-1_aks-1_westeurope' });
  });

  it('looks up the node resource group of a CLUSTERS entry without discovery', async () => {
    const sim = await arm({
      clusters: [
        { subscriptionId: SUB_A, resourceGroup: 'rg-1', name: 'aks-1', nodeResourceGroup: 'custom-nodes' },
      ],
    });
    const { clusters } = adapters(sim, { clusters: [explicit('aks-1', SUB_A, 'rg-1')] });

    const [found] = await clusters.listClusters();

    expect(found?.nodeResourceGroup).toBe('custom-nodes');
    expect(sim.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /subscriptions/${SUB_A}/resourceGroups/rg-1/providers/Microsoft.ContainerService/managedClusters/aks-1`,
    ]);
  });

  it('rejects two clusters with the same name in different subscriptions, naming both resource IDs', async () => {
    const sim = await arm({
      clusters: [
        { subscriptionId: SUB_A, resourceGroup: 'rg-a', name: 'aks-prod', tags: { panorama: 'dg-a' } },
        { subscriptionId: SUB_B, resourceGroup: 'rg-b', name: 'AKS-PROD', tags: { panorama: 'dg-b' } },
      ],
    });
    const { clusters } = adapters(sim, { subscriptions: [SUB_A, SUB_B] });

    const err = await clusters.listClusters().catch((e: unknown) => e);

    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as ConfigError).message;
    expect(message).toContain(
      `/subscriptions/${SUB_A}/resourcegroups/rg-a/providers/Microsoft.ContainerService/managedClusters/aks-prod`,
    );
    expect(message).toContain(
      `/subscriptions/${SUB_B}/resourcegroups/rg-b/providers/Microsoft.ContainerService/managedClusters/AKS-PROD`,
    );
  });

  it('caches discovery for cacheTtlMs', async () => {
    const sim = await arm({
      clusters: [{ subscriptionId: SUB_A, resourceGroup: 'rg', name: 'aks-1', tags: { panorama: 'dg' } }],
    });
    let now = 1_000_000;
    const { clusters } = adapters(sim, { subscriptions: [SUB_A] }, { now: () => now, cacheTtlMs: 60_000 });

    await clusters.listClusters();
    sim.addCluster({ subscriptionId: SUB_A, resourceGroup: 'rg', name: 'aks-2', tags: { panorama: 'dg' } });
    now += 59_000;
    const cached = await clusters.listClusters();
    now += 2_000;
    const fresh = await clusters.listClusters();

    expect(cached.map((c) => c.name)).toEqual(['aks-1']);
    expect(fresh.map((c) => c.name)).toEqual(['aks-1', 'aks-2']);
    expect(sim.requests).toHaveLength(2);
  });

  it('fails closed when ARM refuses, naming the missing permission, unless a recent result exists', async () => {
    const sim = await arm({
      clusters: [{ subscriptionId: SUB_A, resourceGroup: 'rg', name: 'aks-1', tags: { panorama: 'dg' } }],
    });
    let now = 1_000_000;
    const { clusters, logger } = adapters(
      sim,
      { subscriptions: [SUB_A] },
      { now: () => now, cacheTtlMs: 1_000, staleOnErrorMs: 60_000 },
    );
    await clusters.listClusters();
    sim.denyAction('Microsoft.ContainerService/managedClusters/read', `/subscriptions/${SUB_A}`);

    now += 5_000;
    const stale = await clusters.listClusters();
    now += 120_000;
    const err = await clusters.listClusters().catch((e: unknown) => e);

    expect(stale.map((c) => c.name)).toEqual(['aks-1']);
    expect(logger.lines.some((l) => l.level === 'warn' && l.message.includes('previous cluster list'))).toBe(
      true,
    );
    expect(err).toBeInstanceOf(AzureError);
    expect((err as AzureError).kind).toBe(FailureKind.authentication);
    expect((err as AzureError).message).toContain('"Microsoft.ContainerService/managedClusters/read"');
    expect((err as AzureError).message).toContain('"Reader"');
    expect((err as AzureError).message).toContain('AuthorizationFailed');
  });

  it('reports a rejected ARM token as an authentication failure without the token', async () => {
    const sim = await arm({ clusters: [{ subscriptionId: SUB_A, resourceGroup: 'rg', name: 'aks-1' }] });
    sim.setToken('a-different-token-999999');
    const { clusters } = adapters(sim, { subscriptions: [SUB_A] });

    const err = await clusters.listClusters().catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AzureError);
    expect((err as AzureError).kind).toBe(FailureKind.authentication);
    expect((err as AzureError).message).toContain('401 InvalidAuthenticationToken');
    expect(JSON.stringify({ m: (err as Error).message, d: (err as AzureError).details })).not.toContain(
      'arm-test-token-0123456789',
    );
  });

  it('retries ARM 503 through the SDK pipeline and reports unknown subscriptions', async () => {
    const sim = await arm({
      clusters: [{ subscriptionId: SUB_A, resourceGroup: 'rg', name: 'aks-1', tags: { panorama: 'dg' } }],
    });
    sim.injectFault({ status: 503, times: 1 });
    const ok = adapters(sim, { subscriptions: [SUB_A] });
    expect((await ok.clusters.listClusters()).map((c) => c.name)).toEqual(['aks-1']);
    expect(sim.requests.map((r) => r.status)).toEqual([503, 200]);

    const missing = adapters(sim, { subscriptions: ['33333333-3333-3333-3333-333333333333'] });
    const err = await missing.clusters.listClusters().catch((e: unknown) => e);
    expect((err as AzureError).kind).toBe(FailureKind.permanent);
    expect((err as AzureError).message).toContain('SubscriptionNotFound');
  });
});
