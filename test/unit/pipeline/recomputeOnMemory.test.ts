import { describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../../shared/config/loadConfig.js';
import type { KubeService } from '../../../shared/kubernetes/KubeService.js';
import type { ManagedFirewall } from '../../../shared/panorama/PanoramaApi.js';
import { collectStatus, formatStatus } from '../../../shared/pipeline/collectStatus.js';
import { parseDeltaMessage, type RecomputeMessage } from '../../../shared/pipeline/messages.js';
import { RECOMPUTE_STEP } from '../../../shared/pipeline/queueSteps.js';
import { recomputeCluster } from '../../../shared/pipeline/recomputeCluster.js';
import { decodeMessage } from '../../../shared/queues/PipelineQueues.js';
import { runQueueStep } from '../../../shared/queues/QueueStep.js';
import { DELTA_QUEUE, RECOMPUTE_QUEUE } from '../../../shared/queues/queueNames.js';
import { parseLabelSelector } from '../../../shared/selectors/parseLabelSelector.js';
import { makeService } from '../../../sim/kubernetes/makeService.js';
import { memoryDeps } from '../../helpers/memoryDeps.js';

const NOW = new Date('2025-03-01T10:00:00.000Z');

const CLUSTER: ClusterConfig = {
  name: 'aks-mem',
  auth: { type: 'azureAd' },
  labelSelectors: [{ name: 'web', source: 'app=web', selector: parseLabelSelector('app=web') }],
  deviceGroups: ['dg-1'],
};

const FIREWALLS: ManagedFirewall[] = [
  { serial: '0101', deviceGroup: 'dg-1', connected: true },
  { serial: '0102', deviceGroup: 'dg-1', connected: false },
];

/** Pipeline dependencies on in-memory storage, one cluster serving `services`. */
function memoryWorld(services: KubeService[]) {
  return memoryDeps({ clusters: [CLUSTER], services, firewalls: FIREWALLS, now: NOW });
}

function request(requestedAt = NOW): RecomputeMessage {
  return { v: 1, cluster: CLUSTER.name, reason: 'test', requestedAt: requestedAt.toISOString() };
}

const WEB = makeService({ name: 'web', namespace: 'shop', labels: { app: 'web' }, ips: ['10.1.0.4'] });
const DB = makeService({ name: 'db', namespace: 'shop', labels: { app: 'db' }, ips: ['10.1.0.5'] });
const WEB_TAGS = ['aks.aks-mem.svc.app.web', 'aks.aks-mem.web', 'aks_web.aks-mem.web'];
const DB_TAGS = ['aks.aks-mem.db', 'aks.aks-mem.svc.app.db'];

describe('recomputeCluster on in-memory storage', () => {
  it('syncs a new cluster: rows, committed head, one delta message per connected firewall', async () => {
    // prepare
    const world = memoryWorld([WEB, DB]);

    // act
    const outcome = await recomputeCluster(request(), world.deps);

    // assess
    expect(outcome).toMatchObject({
      status: 'changed',
      generation: 1,
      ips: 2,
      registered: 5,
      unregistered: 0,
      messages: 1,
      targets: ['0101'],
      disconnected: ['0102'],
    });
    expect(await world.clusterState.getHead(CLUSTER.name)).toMatchObject({
      generation: 1,
      pendingGeneration: 1,
      ipCount: 2,
      tagCount: 5,
      targets: ['0101'],
      lastRecomputeResult: 'changed',
      syncedFrom: NOW.toISOString(),
    });
    expect((await world.clusterState.getHead(CLUSTER.name))?.leaseOwner).toBeUndefined();
    expect([...(await world.clusterState.readIpTags(CLUSTER.name))]).toEqual([
      ['10.1.0.4', WEB_TAGS],
      ['10.1.0.5', DB_TAGS],
    ]);
    expect(await world.clusterState.getHead(CLUSTER.name)).toMatchObject({ snapshot: 1 });
    expect(world.clusterState.snapshots(CLUSTER.name)).toEqual([1]);
    expect(world.clusterState.fences(CLUSTER.name)).toEqual([]);
    const [message, ...more] = world.queues
      .texts(DELTA_QUEUE)
      .map((t) => parseDeltaMessage(decodeMessage(t)));
    expect(more).toEqual([]);
    expect(message).toMatchObject({ cluster: CLUSTER.name, target: '0101', generation: 1 });
    expect(message?.deltas).toEqual([
      { ip: '10.1.0.4', register: WEB_TAGS, unregister: [] },
      { ip: '10.1.0.5', register: DB_TAGS, unregister: [] },
    ]);
    // Every firewall target is named (its device group); the disconnected one is marked.
    expect(await world.targetStatus.listPushStatus()).toEqual([
      { cluster: CLUSTER.name, target: '0101', deviceGroup: 'dg-1' },
      {
        cluster: CLUSTER.name,
        target: '0102',
        deviceGroup: 'dg-1',
        disconnected: true,
        lastError: 'firewall not connected to Panorama; the audit will repair it',
        lastErrorAt: NOW.toISOString(),
      },
    ]);
  });

  it('removes the row of a Service that went away and sends its unregistration', async () => {
    // prepare
    const world = memoryWorld([WEB, DB]);
    await recomputeCluster(request(), world.deps);
    world.services.splice(1, 1);

    // act
    const outcome = await recomputeCluster(request(new Date(NOW.getTime() + 1)), world.deps);

    // assess
    expect(outcome).toMatchObject({
      status: 'changed',
      generation: 2,
      ips: 1,
      registered: 0,
      unregistered: 2,
    });
    expect([...(await world.clusterState.readIpTags(CLUSTER.name)).keys()]).toEqual(['10.1.0.4']);
    expect((await world.clusterState.getHead(CLUSTER.name))?.generation).toBe(2);
    const last = world.queues.texts(DELTA_QUEUE).map((t) => parseDeltaMessage(decodeMessage(t)))[1];
    expect(last).toMatchObject({
      generation: 2,
      deltas: [{ ip: '10.1.0.5', register: [], unregister: DB_TAGS }],
    });
  });

  it('defers a request while another recompute holds the lease, writing nothing', async () => {
    // prepare
    const world = memoryWorld([WEB]);
    const lease = { leaseOwner: 'other-host/1', leaseUntil: new Date(NOW.getTime() + 60_000).toISOString() };
    await world.clusterState.createHead({
      cluster: CLUSTER.name,
      generation: 0,
      pendingGeneration: 0,
      ipCount: 0,
      tagCount: 0,
      targets: [],
      retiringTargets: [],
      heldRemovals: 0,
      holdBasePairs: 0,
      ipsOverBudget: 0,
      ...lease,
    });

    // act
    const outcome = await runQueueStep(RECOMPUTE_STEP, request(), world.deps);

    // assess
    expect(outcome).toMatchObject({ status: 'busy', requeueAfter: { seconds: 10, message: request() } });
    expect(world.clusterState.snapshots(CLUSTER.name)).toEqual([]);
    expect(world.queues.texts(DELTA_QUEUE)).toEqual([]);
    expect(world.queues.texts(RECOMPUTE_QUEUE).map(decodeMessage)).toEqual([request()]);
    expect(await world.queues.peek(RECOMPUTE_QUEUE)).toEqual([]);
    expect(await world.clusterState.getHead(CLUSTER.name)).toMatchObject(lease);
  });

  it('records what status must say: a Service tag of two namespaces, a selector matching nothing', async () => {
    // prepare: web of shop and web of staging, and no Service labelled app=web
    const prod = makeService({
      name: 'web',
      namespace: 'shop',
      labels: { app: 'shop-web' },
      ips: ['10.1.0.4'],
    });
    const staging = makeService({
      name: 'web',
      namespace: 'staging',
      labels: { app: 'x' },
      ips: ['10.1.0.9'],
    });
    const world = memoryWorld([prod, staging]);

    // act
    await recomputeCluster(request(), world.deps);
    const report = await collectStatus({ ...world.deps, monitored: [CLUSTER.name] });

    // assess
    const [cluster] = report.clusters;
    expect(cluster?.policyWarnings).toEqual([
      expect.stringMatching(/aks\.aks-mem\.web.* 2 namespaces \(.*shop.*staging.*\)/),
      expect.stringMatching(/selector "web" .*matches none of the 2 Services/),
    ]);
    expect(formatStatus(report)).toMatch(/\n {2}warning: tag "aks\.aks-mem\.web"/);
  });

  it('clears the warnings once the cause is gone', async () => {
    // prepare
    const world = memoryWorld([
      makeService({ name: 'web', namespace: 'shop', labels: { app: 'web' }, ips: ['10.1.0.4'] }),
      makeService({ name: 'web', namespace: 'staging', labels: { app: 'web' }, ips: ['10.1.0.9'] }),
    ]);
    await recomputeCluster(request(), world.deps);
    world.services.splice(1, 1);

    // act
    await recomputeCluster(request(new Date(NOW.getTime() + 1)), world.deps);

    // assess
    expect((await world.clusterState.getHead(CLUSTER.name))?.policyWarnings).toBeUndefined();
  });
});

describe('recomputeCluster: state snapshots', () => {
  it('keeps the committed snapshot and the one before it; older ones and orphans are removed', async () => {
    // prepare: generation 1, then an orphan of a crashed commit at 5 (nobody points at it)
    const world = memoryWorld([WEB]);
    await recomputeCluster(request(), world.deps);
    await world.clusterState.writeSnapshot(CLUSTER.name, 5, new Map([['10.9.9.9', ['x']]]));
    world.services.push(DB);

    // act: two changing commits (2, 3), then an unchanged one
    await recomputeCluster(request(new Date(NOW.getTime() + 1)), world.deps);
    world.services.splice(1, 1);
    const third = await recomputeCluster(request(new Date(NOW.getTime() + 2)), world.deps);
    const unchanged = await recomputeCluster(request(new Date(NOW.getTime() + 3)), world.deps);

    // assess: the orphan is newer than any commit, so it stays until a commit passes it
    expect(third).toMatchObject({ status: 'changed', generation: 3 });
    expect(unchanged).toMatchObject({ status: 'unchanged', generation: 3 });
    expect(world.clusterState.snapshots(CLUSTER.name)).toEqual([2, 3, 5]);
    expect(await world.clusterState.getHead(CLUSTER.name)).toMatchObject({ snapshot: 3, generation: 3 });
  });

  it('commits when removing old snapshots fails, says so, and the next commit removes them', async () => {
    // prepare
    const world = memoryWorld([WEB]);
    await recomputeCluster(request(), world.deps);
    world.services.push(DB);
    await recomputeCluster(request(new Date(NOW.getTime() + 1)), world.deps);
    const prune = world.clusterState.pruneSnapshots.bind(world.clusterState);
    world.clusterState.pruneSnapshots = async () => {
      throw new Error('storage went away');
    };
    world.services.splice(1, 1);

    // act
    const outcome = await recomputeCluster(request(new Date(NOW.getTime() + 2)), world.deps);

    // assess
    expect(outcome).toMatchObject({ status: 'changed', generation: 3 });
    expect(world.clusterState.snapshots(CLUSTER.name)).toEqual([1, 2, 3]);
    expect(
      world.logs.lines.some(
        (l) =>
          l.level === 'warn' && /old state snapshots not removed; the next commit retries/.test(l.message),
      ),
    ).toBe(true);

    // act again
    world.clusterState.pruneSnapshots = prune;
    world.services.push(DB);
    await recomputeCluster(request(new Date(NOW.getTime() + 3)), world.deps);

    // assess
    expect(world.clusterState.snapshots(CLUSTER.name)).toEqual([3, 4]);
  });
});
