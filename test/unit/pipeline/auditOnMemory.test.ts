import { describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../../shared/config/loadConfig.js';
import { describeError, FailureKind, KubernetesError, PanoramaError } from '../../../shared/errors.js';
import type { KubeService } from '../../../shared/kubernetes/KubeService.js';
import type { ManagedFirewall } from '../../../shared/panorama/PanoramaApi.js';
import { auditTargets } from '../../../shared/pipeline/auditTargets.js';
import type { PipelineDeps } from '../../../shared/pipeline/PipelineDeps.js';
import { PUSH_STEP } from '../../../shared/pipeline/queueSteps.js';
import { recomputeCluster } from '../../../shared/pipeline/recomputeCluster.js';
import { decodeMessage } from '../../../shared/queues/PipelineQueues.js';
import { runQueueStep } from '../../../shared/queues/QueueStep.js';
import { DELTA_QUEUE } from '../../../shared/queues/queueNames.js';
import { parseLabelSelector } from '../../../shared/selectors/parseLabelSelector.js';
import { makeService } from '../../../sim/kubernetes/makeService.js';
import { memoryDeps } from '../../helpers/memoryDeps.js';
import { MemoryPanorama } from '../../helpers/memoryPanorama.js';

const NOW = new Date('2025-03-01T10:00:00.000Z');

function clusterConfig(name: string, deviceGroups: string[] = []): ClusterConfig {
  return {
    name,
    auth: { type: 'azureAd' },
    labelSelectors: [{ name: 'web', source: 'app=web', selector: parseLabelSelector('app=web') }],
    deviceGroups,
  };
}

const service = (name: string, ip: string, labels: Record<string, string> = {}) =>
  makeService({ name, namespace: 'shop', labels, ips: [ip] });

/** `web` of cluster `aks-a` (10.1.0.4) and its tags. */
const WEB = service('web', '10.1.0.4', { app: 'web' });
const WEB_TAGS = ['aks.aks-a.svc.app.web', 'aks.aks-a.web', 'aks_web.aks-a.web'];

const FIREWALLS: ManagedFirewall[] = [
  { serial: '0101', deviceGroup: 'dg-1', connected: true },
  { serial: '0102', deviceGroup: 'dg-1', connected: true },
];

/**
 * Clusters on in-memory storage and Panorama, each serving its own Services (`services` by cluster
 * name, mutable); a cluster named in `forbidden` fails to list them (as a 403).
 */
function auditWorld(options: {
  clusters: ClusterConfig[];
  services: Record<string, KubeService[]>;
  firewalls?: ManagedFirewall[];
}) {
  const panorama = new MemoryPanorama({ firewalls: options.firewalls ?? [], deviceGroups: ['dg-other'] });
  const forbidden = new Set<string>();
  const services = {
    listServices: async (c: ClusterConfig) => {
      if (forbidden.has(c.name))
        throw new KubernetesError('403 Forbidden', { kind: FailureKind.authentication });
      return options.services[c.name] ?? [];
    },
  };
  const world = memoryDeps({ clusters: options.clusters, now: NOW, overrides: { panorama, services } });
  return { ...world, panorama, forbidden, byCluster: options.services };
}

type AuditWorld = ReturnType<typeof auditWorld>;

let requests = 0;
/** Recomputes a cluster and pushes every queued delta, as the pipeline would. */
async function sync(world: AuditWorld, cluster: string): Promise<void> {
  const requestedAt = new Date(NOW.getTime() + ++requests).toISOString();
  await recomputeCluster({ v: 1, cluster, reason: 'test', requestedAt }, world.deps);
  for (const m of await world.queues.receive(DELTA_QUEUE, 32, 30)) {
    await runQueueStep(PUSH_STEP, decodeMessage(m.messageText), world.deps);
    await world.queues.delete(DELTA_QUEUE, m);
  }
}

/** The world's dependencies `minutes` after {@link NOW}. */
function after(world: AuditWorld, minutes: number): PipelineDeps {
  return { ...world.deps, now: () => new Date(NOW.getTime() + minutes * 60_000) };
}

const readBacks = (world: AuditWorld) => world.panorama.calls.filter((c) => c.method === 'listRegisteredIps');

describe('auditTargets on in-memory storage and Panorama itself', () => {
  it('restores lost tags, removes stale owned ones and never touches foreign tags', async () => {
    // prepare
    const world = auditWorld({ clusters: [clusterConfig('aks-a')], services: { 'aks-a': [WEB] } });
    await sync(world, 'aks-a');
    world.panorama.reboot();
    world.panorama.seed([
      { ip: '10.1.0.4', tags: ['owner.security-team', 'aks.other-cluster.web'] },
      { ip: '10.9.9.9', tags: ['aks.aks-a.ghost', 'aks_web.aks-a.old', 'azure.vm-name.jump'] },
    ]);
    world.panorama.resetCalls();

    // act
    const outcomes = await auditTargets(world.deps);

    // assess
    expect(outcomes).toMatchObject([
      {
        target: 'panorama',
        status: 'audited',
        clusters: ['aks-a'],
        registered: 3,
        unregistered: 2,
        failures: 0,
      },
    ]);
    expect(world.panorama.registered()).toEqual({
      '10.1.0.4': [...WEB_TAGS, 'aks.other-cluster.web', 'owner.security-team'].sort(),
      '10.9.9.9': ['azure.vm-name.jump'],
    });
    expect(world.panorama.calls.find((c) => c.method === 'unregisterTags')?.entries).toEqual([
      { ip: '10.9.9.9', tags: ['aks.aks-a.ghost', 'aks_web.aks-a.old'] },
    ]);
    expect(await world.targetStatus.listAuditStatus()).toEqual([
      { target: 'panorama', lastAuditAt: NOW.toISOString(), registered: 3, unregistered: 2, lastError: '' },
    ]);
  });

  it('reads a target in sync back and sends nothing', async () => {
    // prepare
    const world = auditWorld({ clusters: [clusterConfig('aks-a')], services: { 'aks-a': [WEB] } });
    await sync(world, 'aks-a');
    world.panorama.resetCalls();

    // act
    const outcomes = await auditTargets(world.deps, { force: true });

    // assess
    expect(outcomes).toMatchObject([
      { target: 'panorama', status: 'audited', registered: 0, unregistered: 0 },
    ]);
    expect(world.panorama.calls.map((c) => c.method)).toEqual(['listRegisteredIps']);
  });

  it('leaves the tags of a cluster that never synced alone, and removes its stale ones once it has', async () => {
    // prepare
    const world = auditWorld({
      clusters: [clusterConfig('aks-a'), clusterConfig('aks-new')],
      services: { 'aks-a': [WEB], 'aks-new': [service('web', '10.2.0.1')] },
    });
    await sync(world, 'aks-a');
    world.panorama.seed([
      { ip: '10.1.0.9', tags: ['aks.aks-a.ghost'] },
      { ip: '10.2.0.1', tags: ['aks.aks-new.web'] },
      { ip: '10.2.0.9', tags: ['aks.aks-new.legacy', 'owner.security'] },
    ]);
    world.forbidden.add('aks-new');
    await expect(sync(world, 'aks-new')).rejects.toThrow(/403/);

    // act
    const outcomes = await auditTargets(world.deps, { force: true });

    // assess
    expect(outcomes).toMatchObject([{ target: 'panorama', status: 'audited', unregistered: 1 }]);
    expect(world.panorama.registered()).toEqual({
      '10.1.0.4': WEB_TAGS,
      '10.2.0.1': ['aks.aks-new.web'],
      '10.2.0.9': ['aks.aks-new.legacy', 'owner.security'],
    });
    expect(world.logs.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', message: expect.stringMatching(/never synced/) }),
    );

    // act again: the cluster's first recompute commits
    world.forbidden.delete('aks-new');
    await sync(world, 'aks-new');
    await auditTargets(world.deps, { force: true });

    // assess
    expect(world.panorama.registered()).toEqual({
      '10.1.0.4': WEB_TAGS,
      '10.2.0.1': ['aks.aks-new.web'],
      '10.2.0.9': ['owner.security'],
    });
  });

  it.each<[string, number, boolean, 'audited' | 'skipped-recent']>([
    ['a target audited 59 minutes ago is skipped', 59, false, 'skipped-recent'],
    ['a target audited 60 minutes ago is audited again', 60, false, 'audited'],
    ['force audits a target audited a minute ago', 1, true, 'audited'],
  ])('interval: %s', async (_, minutes, force, status) => {
    // prepare
    const world = auditWorld({ clusters: [clusterConfig('aks-a')], services: { 'aks-a': [WEB] } });
    await sync(world, 'aks-a');
    await auditTargets(world.deps);
    world.panorama.resetCalls();
    const later = after(world, minutes);

    // act
    const outcomes = await auditTargets(later, { force });

    // assess
    expect(outcomes).toMatchObject([{ target: 'panorama', status }]);
    expect(readBacks(world)).toHaveLength(status === 'audited' ? 1 : 0);
    const lastAuditAt = status === 'audited' ? later.now().toISOString() : NOW.toISOString();
    expect(await world.targetStatus.listAuditStatus()).toMatchObject([{ target: 'panorama', lastAuditAt }]);
  });

  it('records entries the device rejects in the audit status row', async () => {
    // prepare
    const world = auditWorld({ clusters: [clusterConfig('aks-a')], services: { 'aks-a': [WEB] } });
    await sync(world, 'aks-a');
    const tags = Array.from({ length: 33 }, (_, i) => `aks.aks-a.svc.k${String(i).padStart(2, '0')}.v`);
    await world.clusterState.seedCommitted('aks-a', new Map([['10.1.0.7', tags]]), 1);

    // act
    const [outcome] = await auditTargets(world.deps, { force: true });

    // assess
    expect(outcome).toMatchObject({ status: 'audited', registered: 0, failures: 1 });
    expect(outcome?.rejected).toEqual([
      { ip: '10.1.0.7', tags, message: expect.stringMatching(/maximum of 32 tags/), operation: 'register' },
    ]);
    expect(await world.targetStatus.listAuditStatus()).toMatchObject([
      {
        target: 'panorama',
        lastAuditAt: NOW.toISOString(),
        lastError: expect.stringMatching(/^1 entries rejected: 10\.1\.0\.7\b.*maximum of 32 tags/),
        lastErrorAt: NOW.toISOString(),
      },
    ]);
  });
});

describe('auditTargets with two clusters on Panorama itself', () => {
  const twoClusters = () =>
    auditWorld({
      clusters: [clusterConfig('aks-x'), clusterConfig('aks-y')],
      services: { 'aks-x': [service('web', '10.7.0.1')], 'aks-y': [service('api', '10.7.0.2')] },
    });

  it('auditing one cluster never takes the tags of another cluster on the same target for stale', async () => {
    // prepare
    const world = twoClusters();
    await sync(world, 'aks-x');
    await sync(world, 'aks-y');

    // act
    const outcomes = await auditTargets(world.deps, { force: true, clusters: ['aks-x'] });

    // assess
    expect(outcomes).toMatchObject([
      { target: 'panorama', status: 'audited', clusters: ['aks-x', 'aks-y'], unregistered: 0 },
    ]);
    expect(world.panorama.registered()).toEqual({
      '10.7.0.1': ['aks.aks-x.web'],
      '10.7.0.2': ['aks.aks-y.api'],
    });
  });

  it('leaves a cluster removed from the directory alone: its tags stay and are not restored', async () => {
    // prepare
    const world = twoClusters();
    await sync(world, 'aks-x');
    await sync(world, 'aks-y');
    world.panorama.reboot();
    world.panorama.seed([{ ip: '10.7.0.3', tags: ['aks.aks-y.manual'] }]);
    const onlyX = { ...world.deps.clusters, listClusters: async () => [clusterConfig('aks-x')] };

    // act
    const outcomes = await auditTargets({ ...world.deps, clusters: onlyX }, { force: true });

    // assess
    expect(outcomes).toMatchObject([
      { target: 'panorama', status: 'audited', clusters: ['aks-x'], registered: 1, unregistered: 0 },
    ]);
    expect(world.panorama.registered()).toEqual({
      '10.7.0.1': ['aks.aks-x.web'],
      '10.7.0.3': ['aks.aks-y.manual'],
    });
  });
});

describe('auditTargets with firewalls through Panorama', () => {
  const firewallWorld = (firewalls: ManagedFirewall[] = FIREWALLS) =>
    auditWorld({ clusters: [clusterConfig('aks-a', ['dg-1'])], services: { 'aks-a': [WEB] }, firewalls });

  it('repairs a rebooted firewall and one that reconnected', async () => {
    // prepare
    const world = firewallWorld([...FIREWALLS, { serial: '0103', deviceGroup: 'dg-1', connected: false }]);
    await sync(world, 'aks-a');
    world.panorama.reboot('0102');
    world.panorama.setConnected('0103', true);

    // act
    const outcomes = await auditTargets(world.deps, { force: true });

    // assess
    expect(outcomes.map((o) => [o.target, o.status, o.registered])).toEqual([
      ['0101', 'audited', 0],
      ['0102', 'audited', 3],
      ['0103', 'audited', 3],
    ]);
    for (const serial of ['0101', '0102', '0103']) {
      expect(world.panorama.registered(serial)).toEqual({ '10.1.0.4': WEB_TAGS });
    }
    expect(world.panorama.registered()).toEqual({});
  });

  it('reports a disconnected firewall without reading it', async () => {
    // prepare
    const world = firewallWorld([...FIREWALLS, { serial: '0103', deviceGroup: 'dg-1', connected: false }]);
    await sync(world, 'aks-a');
    world.panorama.resetCalls();

    // act
    const outcomes = await auditTargets(world.deps, { force: true });

    // assess
    expect(outcomes.map((o) => [o.target, o.status])).toEqual([
      ['0103', 'disconnected'],
      ['0101', 'audited'],
      ['0102', 'audited'],
    ]);
    expect(readBacks(world).map((c) => c.target)).toEqual(['0101', '0102']);
  });

  it('records a failing target and still audits the others; the failed one is due again', async () => {
    // prepare
    const world = firewallWorld();
    await sync(world, 'aks-a');
    world.panorama.reboot('0101');
    world.panorama.reboot('0102');
    const failure = new PanoramaError('Panorama show registered-ip on firewall 0101 failed: HTTP 503', {
      kind: FailureKind.retryable,
    });
    world.panorama.failNext(1, failure, (c) => c.method === 'listRegisteredIps' && c.target === '0101');

    // act
    const outcomes = await auditTargets(world.deps);

    // assess
    expect(outcomes).toMatchObject([
      { target: '0101', status: 'failed', error: describeError(failure) },
      { target: '0102', status: 'audited', registered: 3 },
    ]);
    expect(world.panorama.registered('0101')).toEqual({});
    expect(world.panorama.registered('0102')).toEqual({ '10.1.0.4': WEB_TAGS });
    const firewall = (serial: string) => ({ hostname: `fw-${serial}`, deviceGroup: 'dg-1' });
    expect(await world.targetStatus.listAuditStatus()).toEqual([
      {
        target: '0101',
        ...firewall('0101'),
        lastError: describeError(failure),
        lastErrorAt: NOW.toISOString(),
      },
      {
        target: '0102',
        ...firewall('0102'),
        lastAuditAt: NOW.toISOString(),
        registered: 3,
        unregistered: 0,
        lastError: '',
      },
    ]);

    // act again: a minute later, without force
    const retried = await auditTargets(after(world, 1));

    // assess
    expect(retried.map((o) => [o.target, o.status])).toEqual([
      ['0101', 'audited'],
      ['0102', 'skipped-recent'],
    ]);
    expect(world.panorama.registered('0101')).toEqual({ '10.1.0.4': WEB_TAGS });
  });

  it('removes the cluster tags from a firewall that left the device group; the one still in it keeps them', async () => {
    // prepare
    const world = firewallWorld();
    await sync(world, 'aks-a');
    world.panorama.model.moveFirewall('0102', 'dg-other');
    world.byCluster['aks-a']?.push(service('api', '10.1.0.5'));
    await sync(world, 'aks-a');
    expect((await world.clusterState.getHead('aks-a'))?.retiringTargets).toEqual(['0102']);

    // act
    const outcomes = await auditTargets(world.deps, { force: true });

    // assess
    expect(outcomes.find((o) => o.target === '0102')).toMatchObject({
      status: 'audited',
      unregistered: 3,
      leftBy: ['aks-a'],
    });
    expect(world.panorama.registered('0102')).toEqual({});
    expect(world.panorama.registered('0101')).toEqual({
      '10.1.0.4': WEB_TAGS,
      '10.1.0.5': ['aks.aks-a.api'],
    });
    expect(await world.clusterState.getHead('aks-a')).toMatchObject({
      targets: ['0101'],
      retiringTargets: [],
    });
  });

  it('holds the removal when the device groups resolve to no firewall at all', async () => {
    // prepare
    const world = firewallWorld();
    await sync(world, 'aks-a');
    world.panorama.model.moveFirewall('0101', 'dg-other');
    world.panorama.model.moveFirewall('0102', 'dg-other');

    // act
    const outcomes = await auditTargets(world.deps, { force: true });

    // assess
    expect(outcomes.filter((o) => o.unregistered > 0)).toEqual([]);
    expect(world.panorama.registered('0101')).toEqual({ '10.1.0.4': WEB_TAGS });
    expect(world.panorama.registered('0102')).toEqual({ '10.1.0.4': WEB_TAGS });
    expect(world.logs.lines.some((l) => l.level === 'error' && l.message.includes('removal held'))).toBe(
      true,
    );
  });

  it('reads the device groups once per pass for clusters that notify the same groups', async () => {
    // prepare
    const world = auditWorld({
      clusters: [clusterConfig('aks-a', ['dg-1']), clusterConfig('aks-b', ['dg-1'])],
      services: { 'aks-a': [WEB], 'aks-b': [service('api', '10.2.0.4')] },
      firewalls: FIREWALLS,
    });
    await sync(world, 'aks-a');
    await sync(world, 'aks-b');
    world.panorama.resetCalls();

    // act
    const outcomes = await auditTargets(world.deps, { force: true });

    // assess
    expect(outcomes.map((o) => [o.target, o.status])).toEqual([
      ['0101', 'audited'],
      ['0102', 'audited'],
    ]);
    expect(world.panorama.calls.filter((c) => c.method === 'listDeviceGroupFirewalls')).toHaveLength(1);
  });
});
