import { createHash } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureError, FailureKind, KubernetesError } from '../../../shared/errors.js';
import type { KubeService, ServiceSource } from '../../../shared/kubernetes/KubeService.js';
import { auditTargets } from '../../../shared/pipeline/auditTargets.js';
import { collectStatus, formatStatus } from '../../../shared/pipeline/collectStatus.js';
import { handleResourceEvent } from '../../../shared/pipeline/handleResourceEvent.js';
import type { PipelineDeps } from '../../../shared/pipeline/PipelineDeps.js';
import type { PushOutcome } from '../../../shared/pipeline/pushTagDeltas.js';
import { RECOMPUTE_STEP } from '../../../shared/pipeline/queueSteps.js';
import { recomputeCluster } from '../../../shared/pipeline/recomputeCluster.js';
import { replayPoison } from '../../../shared/pipeline/replayPoison.js';
import { runQueueStep } from '../../../shared/queues/QueueStep.js';
import {
  CLUSTER_STATE_TABLE,
  type ClusterHead,
  ClusterStateStore,
} from '../../../shared/state/ClusterStateStore.js';
import { armResourceEvent } from '../../../sim/eventGrid/armResourceEvent.js';
import {
  internalService,
  type PipelineWorld,
  registeredObject,
  SUBSCRIPTION,
  startPipelineWorld,
} from '../../helpers/pipelineWorld.js';

/**
 * Regression tests of defects that wiped, lost or froze policy. Each one failed on the code before
 * its fix (see the comment on each test for what it did then).
 */

function clusterResourceId(name: string): string {
  return `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-${name}/providers/Microsoft.ContainerService/managedClusters/${name}`;
}

function request(cluster: string, options: { deleted?: boolean; requestedAt?: Date } = {}) {
  return {
    v: 1 as const,
    cluster,
    reason: 'test',
    requestedAt: (options.requestedAt ?? new Date()).toISOString(),
    ...(options.deleted ? { deleted: true } : {}),
  };
}

/** A gate: `wait()` resolves once `open()` was called. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { wait: () => opened, open: () => open() };
}

/** A Service source that waits at a gate, then lists through the real one (or fails). */
function gatedServices(real: ServiceSource, g: { wait: () => Promise<void> }, fail?: Error): ServiceSource {
  return {
    async listServices(cluster) {
      const services = fail ? [] : await real.listServices(cluster);
      await g.wait();
      if (fail) throw fail;
      return services;
    },
  };
}

function ownedTagsOf(world: PipelineWorld, cluster: string, target?: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [ip, tags] of Object.entries(registeredObject(world.panorama, target))) {
    const owned = tags.filter((t) => t.startsWith(`aks.${cluster}.`) || t.includes(`.${cluster}.`));
    if (owned.length) out[ip] = owned;
  }
  return out;
}

describe('the audit and a cluster with no committed state yet', () => {
  let world: PipelineWorld;
  const cluster = 'aks-migrated';

  beforeAll(async () => {
    world = await startPipelineWorld({
      clusters: [{ name: cluster, services: [internalService('shop', 'web', ['10.40.0.1'])] }],
    });
  });
  afterAll(async () => world?.stop());

  // Before the fix: the audit read the head the lease created as "no tags" and unregistered every
  // pre-seeded tag (repaired +0/-2), and they stayed gone while Kubernetes answered 403.
  it('leaves tags already on the device alone until the first recompute commits', async () => {
    // prepare: tags already on the device; the first recompute fails (Kubernetes answers 403)
    const seeded = [
      { ip: '10.40.0.1', tags: [`aks.${cluster}.web`] },
      { ip: '10.40.0.9', tags: [`aks.${cluster}.legacy`, 'owner.security'] },
    ];
    world.panorama.seedTags(seeded);
    world.kube.get(cluster)?.setForbidden(true);
    await expect(world.recompute(cluster)).rejects.toThrow();

    // act
    const audits = await auditTargets(world.deps, { force: true });

    // assess
    expect(audits.reduce((n, a) => n + a.unregistered, 0)).toBe(0);
    const status = await collectStatus({ ...world.deps, monitored: [cluster] });
    expect(status.clusters[0]?.synced).toBe(false);
    expect(formatStatus(status)).toContain('never synced (first recompute failed)');
    expect(registeredObject(world.panorama)).toEqual({
      '10.40.0.1': [`aks.${cluster}.web`],
      '10.40.0.9': [`aks.${cluster}.legacy`, 'owner.security'],
    });

    // act again: the first recompute commits, then the audit runs
    world.kube.get(cluster)?.setForbidden(false);
    await world.recompute(cluster);
    await world.settle();
    await auditTargets(world.deps, { force: true });

    // assess
    expect(registeredObject(world.panorama)).toEqual({
      '10.40.0.1': [`aks.${cluster}.web`],
      '10.40.0.9': ['owner.security'],
    });
  });
});

describe('delete requests while another recompute holds the lease', () => {
  let world: PipelineWorld;
  const cluster = 'aks-doomed';

  beforeAll(async () => {
    world = await startPipelineWorld({
      clusters: [{ name: cluster, services: [internalService('shop', 'web', ['10.41.0.1'])] }],
    });
    await world.recompute(cluster);
    await world.settle();
  });
  afterAll(async () => world?.stop());

  // Before the fix: the delete, requested before the slow recompute started, was `coalesced` into it
  // while it held the lease; that recompute then failed and the cluster's tags stayed forever.
  it('is never coalesced into a running recompute that then fails', async () => {
    // prepare: the cluster is synced; a slow recompute holds the lease (and will fail)
    expect(ownedTagsOf(world, cluster)).toEqual({ '10.41.0.1': [`aks.${cluster}.web`] });
    const deleteRequestedAt = new Date(Date.now() - 5000);
    const g = gate();
    const failing = new KubernetesError('API server unreachable', { kind: FailureKind.retryable });
    const slow = recomputeCluster(request(cluster), {
      ...world.deps,
      services: gatedServices(world.deps.services, g, failing),
    }).catch((err: Error) => err);
    await new Promise((r) => setTimeout(r, 300));

    // act: a delete requested before the slow recompute started
    const during = await runQueueStep(
      RECOMPUTE_STEP,
      request(cluster, { deleted: true, requestedAt: deleteRequestedAt }),
      { ...world.otherInstance(), busyRetrySeconds: 0 },
    );

    // assess
    expect(during.status).toBe('busy');

    // act again: the slow recompute fails
    g.open();

    // assess
    expect(await slow).toBeInstanceOf(Error);

    // act again: the requeued delete runs
    const outcomes = await world.drainRecomputes();

    // assess
    expect(outcomes.map((o) => o.status)).toContain('deleted');

    // act again
    await world.drainDeltas();

    // assess
    expect(ownedTagsOf(world, cluster)).toEqual({});
  });
});

/** Labels whose tags alone make a delta bigger than one queue message (random: gzip gains little). */
function hostileLabels(count: number, valueLength: number, seed: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const value = createHash('sha512')
      .update(`${seed}${i}`)
      .digest('base64')
      .replace(/[^A-Za-z0-9]/g, 'z')
      .slice(0, valueLength);
    labels[`team.example.com/key-${seed}${i.toString().padStart(4, '0')}`] = value;
  }
  return labels;
}

function hostileService(ip: string, count: number, valueLength: number): KubeService {
  return internalService('evil', 'many-labels', [ip], hostileLabels(count, valueLength, 'a'));
}

function rejectedIps(pushed: readonly PushOutcome[]): string[] {
  return [...new Set(pushed.flatMap((p) => p.failures.map((f) => f.ip)))].sort();
}

describe('a Service whose delta does not fit in one queue message', () => {
  let world: PipelineWorld;
  const cluster = 'aks-hostile';

  beforeAll(async () => {
    world = await startPipelineWorld({
      clusters: [{ name: cluster, services: [internalService('shop', 'web', ['10.42.0.1'])] }],
      duplicateMode: 'silent',
    });
  });
  afterAll(async () => world?.stop());

  // Before the fix: "delta for 10.42.0.66 does not fit in one queue message [permanent]"; every
  // recompute of the cluster failed and the web Service never reached Panorama.
  // Since the tag budget (MAX_TAGS_PER_IP, default 32) such a Service gets at most 32 tags: the
  // split of one IP's delta across messages and the continued state rows stay as defences (their
  // own tests: test/unit/pipeline/messages.test.ts, test/helpers/clusterStateContract.ts).
  it('gets its 32 highest-priority tags, a warning and a count in status, and the rest of the cluster proceeds', async () => {
    // prepare
    world.kube.get(cluster)?.addService(hostileService('10.42.0.66', 700, 63));

    // act
    const outcome = await world.recompute(cluster);

    // assess
    expect(outcome.status).toBe('changed');
    expect(
      world.logs.lines.some(
        (l) =>
          l.level === 'warn' && /1 IPs have more tags than their budget: IP 10\.42\.0\.66/.test(l.message),
      ),
    ).toBe(true);
    expect((await world.deps.clusterState.getHead(cluster))?.ipsOverBudget).toBe(1);

    // act again
    const drained = await world.drainDeltas();

    // assess: the device accepts all 32; the Service tag is kept first
    expect(registeredObject(world.panorama)['10.42.0.1']).toEqual([`aks.${cluster}.web`]);
    const state = await world.deps.clusterState.readIpTags(cluster);
    expect(state.get('10.42.0.66')).toHaveLength(32);
    expect(state.get('10.42.0.66')).toContain(`aks.${cluster}.many-labels`);
    expect(registeredObject(world.panorama)['10.42.0.66']).toHaveLength(32);
    expect(rejectedIps(drained.pushed)).toEqual([]);
  });

  it('cuts an IP shared by Services with 1,100 label tags to its budget, both Service tags first', async () => {
    // prepare
    const sim = world.kube.get(cluster);
    sim?.addService(internalService('one', 'a', ['10.42.0.77'], hostileLabels(550, 60, 'b')));
    sim?.addService(internalService('two', 'b', ['10.42.0.77'], hostileLabels(550, 61, 'c')));

    // act and assess: the recompute
    expect((await world.recompute(cluster)).status).toBe('changed');

    // act again
    const drained = await world.drainDeltas();

    // assess
    const state = await world.deps.clusterState.readIpTags(cluster);
    expect(state.get('10.42.0.77')).toHaveLength(32);
    expect(state.get('10.42.0.77')).toEqual(expect.arrayContaining([`aks.${cluster}.a`, `aks.${cluster}.b`]));
    expect((await world.deps.clusterState.getHead(cluster))?.ipsOverBudget).toBe(2);
    expect(rejectedIps(drained.pushed)).toEqual([]);
  });
});

describe('whole-call Panorama failures on a push', () => {
  let world: PipelineWorld;
  const cluster = 'aks-maint';

  beforeAll(async () => {
    world = await startPipelineWorld({
      clusters: [{ name: cluster, services: [internalService('shop', 'web', ['10.43.0.1'])] }],
    });
  });
  afterAll(async () => world?.stop());

  // Before the fix: a 404 or an HTML page was "permanent": the message completed after one try,
  // nothing was poisoned, nothing could be replayed (poisoned 0, tags missing).
  it.each(['http-404', 'maintenance-page'] as const)('%s: retried, poisoned, replayable', async (fault) => {
    // prepare
    const sim = world.kube.get(cluster);
    sim?.setLabels('shop', 'web', { rev: fault });
    world.panorama.setFaults({ errorRate: 1, errorFaults: [fault] });

    // act
    await world.recompute(cluster);
    const drained = await world.drainDeltas(3);

    // assess
    expect(drained.poisoned).toBe(1);
    expect(drained.retried).toBe(2);

    // act again: Panorama recovers; the poison queue is replayed
    world.panorama.clearFaults();
    await replayPoison(world.deps.queues, { logger: world.logs });
    await world.drainDeltas();

    // assess
    expect(registeredObject(world.panorama)['10.43.0.1']).toContain(`aks.${cluster}.svc.rev.${fault}`);
  });
});

/**
 * Table state as a struggling process sees it: unreachable while `down` (a short storage outage),
 * and `beforeRowWrite` runs before each row write (to stall or break a recompute mid-write).
 */
class StrugglingStateStore extends ClusterStateStore {
  down = false;
  /** How the outage fails calls (a retryable failure is retried by the lease release). */
  downKind: FailureKind = FailureKind.retryable;
  beforeRowWrite: () => Promise<void> = async () => {};
  #check(): void {
    if (this.down) throw new AzureError('Table storage: connect ECONNREFUSED', { kind: this.downKind });
  }
  override async getHead(cluster: string) {
    this.#check();
    return super.getHead(cluster);
  }
  override async replaceHead(head: ClusterHead) {
    this.#check();
    return super.replaceHead(head);
  }
  override async writeSnapshot(...args: Parameters<ClusterStateStore['writeSnapshot']>) {
    await this.beforeRowWrite();
    this.#check();
    return super.writeSnapshot(...args);
  }
}

function stateTable(world: PipelineWorld): TableClient {
  return TableClient.fromConnectionString(world.azurite.connectionString, CLUSTER_STATE_TABLE, {
    allowInsecureConnection: true,
  });
}

describe('a storage outage of seconds during a recompute', () => {
  let world: PipelineWorld;
  const cluster = 'aks-outage';

  beforeAll(async () => {
    world = await startPipelineWorld({
      clusters: [{ name: cluster, services: [internalService('shop', 'web', ['10.44.0.1'])] }],
    });
  });
  afterAll(async () => world?.stop());

  // Before the fix: the failure path could not release the lease, and every recompute was
  // `busy` until the lease expired (11 minutes).
  it('releases the lease once storage is back', async () => {
    // prepare
    const flaky = new StrugglingStateStore(stateTable(world));
    flaky.beforeRowWrite = async () => {
      flaky.down = true;
      setTimeout(() => {
        flaky.down = false;
      }, 2000);
    };

    // act and assess: the recompute fails on the outage
    await expect(world.recompute(cluster, { deps: { ...world.deps, clusterState: flaky } })).rejects.toThrow(
      /ECONNREFUSED/,
    );

    // assess
    const head = await world.deps.clusterState.getHead(cluster);
    expect(head?.leaseOwner).toBeUndefined();
    expect(head?.lastRecomputeResult).toBe('failed');

    // act and assess: another instance recomputes
    expect((await world.recompute(cluster, { deps: world.otherInstance() })).status).toBe('changed');
  });

  // Before the fix: a lease whose release failed blocked this instance too until it expired.
  it('a lease its own failed recompute could not release is reclaimed by the same instance only', async () => {
    // prepare
    world.kube.get(cluster)?.addService(internalService('shop', 'api', ['10.44.0.2']));
    const flaky = new StrugglingStateStore(stateTable(world));
    flaky.downKind = FailureKind.permanent;
    flaky.beforeRowWrite = async () => {
      flaky.down = true;
    };

    // act
    const failed = await world.recompute(cluster, { deps: { ...world.deps, clusterState: flaky } });

    // assess
    expect(failed).toMatchObject({ status: 'failed', error: expect.stringMatching(/ECONNREFUSED/) });
    expect((await world.deps.clusterState.getHead(cluster))?.leaseOwner).toBeDefined();

    // act again: another instance
    const other = await world.recompute(cluster, { deps: { ...world.otherInstance(), busyRetrySeconds: 0 } });

    // assess
    expect(other.status).toBe('busy');

    // act and assess: the same instance reclaims its lease
    expect((await world.recompute(cluster)).status).toBe('changed');

    // assess
    expect((await world.deps.clusterState.readIpTags(cluster)).has('10.44.0.2')).toBe(true);
  });
});

describe('stale and reordered cluster events', () => {
  let world: PipelineWorld;
  const cluster = 'aks-alive';

  beforeAll(async () => {
    world = await startPipelineWorld({
      clusters: [{ name: cluster, services: [internalService('shop', 'web', ['10.45.0.1'])] }],
    });
  });
  afterAll(async () => world?.stop());

  // Before the fix: a delete event of a cluster that ARM still has removed every tag.
  it('a delete event of a cluster that ARM still has does not wipe it', async () => {
    // prepare
    await world.recompute(cluster);
    await world.settle();
    expect(ownedTagsOf(world, cluster)).toEqual({ '10.45.0.1': [`aks.${cluster}.web`] });

    // act
    const mapping = await handleResourceEvent(
      armResourceEvent(clusterResourceId(cluster), 'delete'),
      world.deps,
    );

    // assess
    expect(mapping).toMatchObject({ kind: 'recompute', deleted: false });

    // act again
    await world.settle();

    // assess
    expect(ownedTagsOf(world, cluster)).toEqual({ '10.45.0.1': [`aks.${cluster}.web`] });
  });

  // Before the fix: the two-hour-old delete, arriving after a newer write, removed every tag. Here
  // ARM cannot be asked (read denied), so only the events' times order them.
  it('a delete event older than a write already acted on does not wipe the cluster', async () => {
    // prepare: ARM cannot be asked; a write event of an hour ago was acted on
    world.arm.denyAction('Microsoft.ContainerService/managedClusters/read');
    try {
      const id = clusterResourceId(cluster);
      const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
      await handleResourceEvent({ ...armResourceEvent(id, 'write'), eventTime: hourAgo }, world.deps);
      await world.settle();

      // act: a delete event of two hours ago arrives
      const twoHoursAgo = new Date(Date.now() - 7_200_000).toISOString();
      const mapping = await handleResourceEvent(
        { ...armResourceEvent(id, 'delete'), eventTime: twoHoursAgo },
        world.deps,
      );

      // assess
      expect(mapping).toMatchObject({ kind: 'recompute', deleted: true });

      // act again
      await world.settle();

      // assess
      expect(ownedTagsOf(world, cluster)).toEqual({ '10.45.0.1': [`aks.${cluster}.web`] });
      expect((await world.deps.clusterState.getHead(cluster))?.deletedAt).toBeUndefined();
    } finally {
      world.arm.clearDenials();
    }
  });

  it('a delete event of a cluster ARM no longer has removes its tags', async () => {
    // prepare
    world.arm.removeCluster(clusterResourceId(cluster));

    // act
    await handleResourceEvent(armResourceEvent(clusterResourceId(cluster), 'delete'), world.deps);
    await world.settle();

    // assess
    expect(ownedTagsOf(world, cluster)).toEqual({});
    expect((await world.deps.clusterState.getHead(cluster))?.deletedAt).toBeTruthy();
  });
});

describe('a firewall that leaves the device group', () => {
  let world: PipelineWorld;
  const cluster = 'aks-dg';

  beforeAll(async () => {
    world = await startPipelineWorld({
      deviceGroups: { 'dg-spoke': [{ serial: '0101' }, { serial: '0102' }], 'dg-other': [] },
      clusters: [
        {
          name: cluster,
          deviceGroups: ['dg-spoke'],
          services: [internalService('shop', 'web', ['10.46.0.1'])],
        },
      ],
    });
    await world.recompute(cluster);
    await world.settle();
  });
  afterAll(async () => world?.stop());

  // Before the fix: 0102 was never audited or updated again and kept every tag of the cluster.
  it('loses the cluster tags; the firewall still in the group keeps them', async () => {
    // prepare
    expect(ownedTagsOf(world, cluster, '0102')).toEqual({ '10.46.0.1': [`aks.${cluster}.web`] });

    // act: 0102 moves to another device group; the cluster changes and is recomputed
    world.panorama.addFirewall('dg-other', '0102');
    world.kube.get(cluster)?.addService(internalService('shop', 'api', ['10.46.0.2']));
    await world.recompute(cluster);
    await world.settle();

    // assess
    const before = await collectStatus({ ...world.deps, monitored: [cluster] });
    expect(before.clusters[0]?.retiringTargets).toEqual(['0102']);
    expect(formatStatus(before)).toContain('leaving target 0102');

    // act again
    const audits = await auditTargets(world.deps, { force: true });

    // assess
    expect(audits.find((a) => a.target === '0102')).toMatchObject({ status: 'audited', unregistered: 1 });
    expect(ownedTagsOf(world, cluster, '0102')).toEqual({});
    expect(ownedTagsOf(world, cluster, '0101')).toEqual({
      '10.46.0.1': [`aks.${cluster}.web`],
      '10.46.0.2': [`aks.${cluster}.api`],
    });
    expect((await world.deps.clusterState.getHead(cluster))?.targets).toEqual(['0101']);
    const after = await collectStatus({ ...world.deps, monitored: [cluster] });
    expect(after.clusters[0]?.retiringTargets).toEqual([]);
  });

  it('holds the removal when the device groups resolve to no firewall at all', async () => {
    // prepare
    world.panorama.addFirewall('dg-other', '0101');

    // act
    const audits = await auditTargets(world.deps, { force: true });

    // assess
    expect(audits.filter((a) => a.unregistered > 0)).toEqual([]);
    expect(ownedTagsOf(world, cluster, '0101')).not.toEqual({});
    expect(world.logs.lines.some((r) => r.message.includes('removal held'))).toBe(true);
  });
});

describe('a recompute that outlives its lease or its time', () => {
  let world: PipelineWorld;
  const cluster = 'aks-slow';

  beforeAll(async () => {
    world = await startPipelineWorld({
      clusters: [{ name: cluster, services: [internalService('shop', 'web', ['10.47.0.1'])] }],
    });
  });
  afterAll(async () => world?.stop());

  // Before the fix: there was no budget; a recompute ran on past the function timeout.
  it('stops when its time budget is spent and releases the lease', async () => {
    // prepare
    world.kube.get(cluster)?.addService(internalService('shop', 'late', ['10.47.0.3']));
    const impatient: PipelineDeps = { ...world.deps, recomputeBudgetMs: 0 };

    // act and assess: the recompute stops
    await expect(recomputeCluster(request(cluster), impatient)).rejects.toThrow(/budget/);

    // assess
    expect((await world.deps.clusterState.getHead(cluster))?.leaseOwner).toBeUndefined();
    expect((await world.deps.clusterState.readIpTags(cluster)).has('10.47.0.3')).toBe(false);

    // act and assess: the next recompute, with a budget
    expect((await world.recompute(cluster)).status).toBe('changed');
  });

  // Before the fix: the first recompute, resumed after another took its lease over and committed,
  // still wrote its stale rows (10.47.0.1 back in the state, 10.47.0.2 gone) before its commit failed.
  it('cannot write rows once its lease was taken over', async () => {
    // prepare
    const sim = world.kube.get(cluster);
    sim?.addService(internalService('shop', 'old', ['10.47.0.9']));
    const stalled = new StrugglingStateStore(stateTable(world));
    const reached = gate();
    const resume = gate();
    stalled.beforeRowWrite = async () => {
      reached.open();
      await resume.wait();
    };

    // act: the first recompute stalls before writing its rows
    const first = recomputeCluster(request(cluster), { ...world.deps, clusterState: stalled }).catch(
      (err: Error) => err,
    );
    await reached.wait();

    // act and assess: the cluster changes; another instance takes the expired lease over and commits
    sim?.deleteService('shop', 'old');
    sim?.addService(internalService('shop', 'api', ['10.47.0.2']));
    const later = world.otherInstance();
    const expired: PipelineDeps = {
      ...later,
      now: () => new Date(Date.now() + (later.leaseSeconds + 1) * 1000),
    };
    expect((await recomputeCluster(request(cluster), expired)).status).toBe('changed');

    // assess
    const committed = [...(await world.deps.clusterState.readIpTags(cluster))];
    expect(committed.map(([ip]) => ip)).toContain('10.47.0.2');
    expect(committed.map(([ip]) => ip)).not.toContain('10.47.0.9');

    // act again: the first recompute resumes
    resume.open();

    // assess
    expect(await first).toBeInstanceOf(Error);
    expect([...(await world.deps.clusterState.readIpTags(cluster))]).toEqual(committed);
  });
});
