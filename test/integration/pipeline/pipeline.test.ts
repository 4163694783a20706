import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAksAdapters } from '../../../shared/aks/createAksAdapters.js';
import { auditTargets } from '../../../shared/pipeline/auditTargets.js';
import { collectStatus } from '../../../shared/pipeline/collectStatus.js';
import { handleResourceEvent } from '../../../shared/pipeline/handleResourceEvent.js';
import { parseDeltaMessage, toWireDeltaMessage } from '../../../shared/pipeline/messages.js';
import {
  MAX_DEFERRALS,
  pushTagDeltas,
  StateNotCommittedError,
} from '../../../shared/pipeline/pushTagDeltas.js';
import { PUSH_STEP } from '../../../shared/pipeline/queueSteps.js';
import { replayPoison } from '../../../shared/pipeline/replayPoison.js';
import { decodeMessage } from '../../../shared/queues/MessageQueues.js';
import { runQueueStep } from '../../../shared/queues/QueueStep.js';
import { DELTA_QUEUE, poisonQueueName } from '../../../shared/queues/queueNames.js';
import { armResourceEvent, loadBalancerResourceId } from '../../../sim/eventGrid/armResourceEvent.js';
import {
  internalService,
  nodeResourceGroup,
  type PipelineWorld,
  registeredObject,
  SUBSCRIPTION,
  startPipelineWorld,
} from '../../helpers/pipelineWorld.js';

const CLUSTER = 'aks-a';

function lbEvent(cluster: string) {
  return armResourceEvent(loadBalancerResourceId(SUBSCRIPTION, nodeResourceGroup(cluster)), 'write');
}

describe('pipeline on Azurite and the simulators (Panorama itself as target)', () => {
  let world: PipelineWorld;

  beforeAll(async () => {
    world = await startPipelineWorld({
      clusters: [
        {
          name: CLUSTER,
          labelSelectors: [{ name: 'web', selector: 'app=web' }],
          services: [internalService('shop', 'checkout', ['10.1.0.4'], { app: 'web' })],
        },
      ],
    });
  });
  afterAll(async () => world?.stop());
  beforeEach(() => world.panorama.clearFaults());

  const kube = () => {
    const sim = world.kube.get(CLUSTER);
    if (!sim) throw new Error('no simulator');
    return sim;
  };

  it('an event for a new internal Service brings its tags to Panorama', async () => {
    // prepare
    kube().addService(internalService('shop', 'cart', ['10.1.0.5'], { tier: 'front' }));

    // act
    const mapping = await handleResourceEvent(lbEvent(CLUSTER), world.deps);

    // assess
    expect(mapping).toMatchObject({ kind: 'recompute', cluster: CLUSTER });

    // act again
    await world.settle();

    // assess
    expect(registeredObject(world.panorama)).toEqual({
      '10.1.0.4': ['aks.aks-a.checkout', 'aks.aks-a.svc.app.web', 'aks_web.aks-a.checkout'],
      '10.1.0.5': ['aks.aks-a.cart', 'aks.aks-a.svc.tier.front'],
    });
  });

  it('an unchanged cluster causes no Panorama call and no message', async () => {
    // prepare
    world.panorama.resetCalls();

    // act
    const outcome = await world.recompute(CLUSTER);

    // assess
    expect(outcome.status).toBe('unchanged');
    expect(outcome.messages).toBe(0);
    expect(await world.deps.queues.depth(DELTA_QUEUE)).toBe(0);

    // act again
    await world.drainDeltas();

    // assess
    expect(world.panorama.stats.calls).toBe(0);
  });

  it('a label change and a Service deletion unregister exactly the stale tags', async () => {
    // prepare
    world.panorama.seedTags([{ ip: '10.1.0.4', tags: ['owner.security-team'] }]);
    kube().setLabels('shop', 'checkout', { app: 'api' });
    kube().deleteService('shop', 'cart');
    world.panorama.resetCalls();

    // act
    await world.recompute(CLUSTER);
    await world.drainDeltas();

    // assess
    expect(registeredObject(world.panorama)).toEqual({
      '10.1.0.4': ['aks.aks-a.checkout', 'aks.aks-a.svc.app.api', 'owner.security-team'],
    });
    const unregistered = world.panorama.calls.flatMap((c) => c.unregister ?? []);
    expect(unregistered).toEqual(
      expect.arrayContaining([
        { ip: '10.1.0.4', tags: ['aks.aks-a.svc.app.web', 'aks_web.aks-a.checkout'] },
        { ip: '10.1.0.5', tags: ['aks.aks-a.cart', 'aks.aks-a.svc.tier.front'] },
      ]),
    );
  });

  it('a message newer than the committed state waits (invariant 2)', async () => {
    // prepare
    const head = await world.deps.clusterState.getHead(CLUSTER);
    const future = parseDeltaMessage({
      v: 1,
      cluster: CLUSTER,
      target: 'panorama',
      generation: (head?.generation ?? 0) + 1,
      deltas: [{ ip: '10.1.0.4', register: ['aks.aks-a.x'], unregister: [] }],
    });

    // act
    const deferred = await runQueueStep(PUSH_STEP, toWireDeltaMessage(future), world.deps);

    // assess
    expect(deferred).toMatchObject({ status: 'deferred', calls: 0 });

    // act again: wait for the requeued message
    let [requeued] = await world.deps.queues.receive(DELTA_QUEUE, 1, 5);
    for (let i = 0; i < 40 && !requeued; i++) {
      await new Promise((r) => setTimeout(r, 250));
      [requeued] = await world.deps.queues.receive(DELTA_QUEUE, 1, 5);
    }

    // assess
    expect(requeued).toBeDefined();
    const again = parseDeltaMessage(decodeMessage(requeued?.messageText ?? ''));
    expect(again).toEqual({ ...future, deferrals: 1 });

    // act and assess: drop the requeued copy; a message deferred MAX_DEFERRALS times throws
    if (requeued) await world.deps.queues.delete(DELTA_QUEUE, requeued);
    await expect(pushTagDeltas({ ...future, deferrals: MAX_DEFERRALS }, world.deps)).rejects.toBeInstanceOf(
      StateNotCommittedError,
    );
  });

  it('duplicate and out-of-order delivery converge to the current state (invariant 1)', async () => {
    // prepare
    kube().setLabels('shop', 'checkout', { app: 'v1' });
    await world.recompute(CLUSTER);
    const first = await world.deps.queues.peek(DELTA_QUEUE);
    await world.drainDeltas();
    kube().setLabels('shop', 'checkout', { app: 'v2' });
    await world.recompute(CLUSTER);
    const second = await world.deps.queues.peek(DELTA_QUEUE);
    await world.drainDeltas();

    // act
    // Deliver everything again, newest first, twice.
    for (const m of [...second, ...first, ...second, ...first]) {
      await pushTagDeltas(parseDeltaMessage(decodeMessage(m.messageText)), world.deps);
    }

    // assess
    expect(registeredObject(world.panorama)['10.1.0.4']).toEqual([
      'aks.aks-a.checkout',
      'aks.aks-a.svc.app.v2',
      'owner.security-team',
    ]);
  });

  it('Panorama down: messages are retried, then poisoned; replay after recovery converges', async () => {
    // prepare
    kube().addService(internalService('shop', 'search', ['10.1.0.9'], { app: 'web' }));
    world.panorama.setFaults({ errorRate: 1, errorFaults: ['http-503'] });

    // act
    await world.recompute(CLUSTER);

    // assess
    const queued = await collectStatus({ ...world.deps, monitored: [CLUSTER] });
    expect(queued.clusters[0]?.targets.find((t) => t.target === 'panorama')?.pending).toBe(1);

    // act again: push while Panorama is down
    const down = await world.drainDeltas(3);

    // assess
    expect(down.poisoned).toBeGreaterThan(0);
    expect(down.retried).toBeGreaterThan(0);
    expect(await world.deps.queues.depth(poisonQueueName(DELTA_QUEUE))).toBe(down.poisoned);
    const status = await collectStatus({ ...world.deps, monitored: [CLUSTER] });
    expect(status.poisonedSample[`${CLUSTER}/panorama`]).toBe(down.poisoned);
    expect(status.clusters[0]?.targets[0]?.lastError).toMatch(/503|retry|unavailable/i);
    expect(registeredObject(world.panorama)['10.1.0.9']).toBeUndefined();

    // act again: Panorama recovers; a dry run of the replay
    world.panorama.clearFaults();
    const dry = await replayPoison(world.deps.queues, { dryRun: true, logger: world.logs });

    // assess
    expect(dry.find((r) => r.queue === DELTA_QUEUE)).toMatchObject({ found: down.poisoned, moved: 0 });

    // act again: the replay
    const replayed = await replayPoison(world.deps.queues, { logger: world.logs });

    // assess
    expect(replayed.find((r) => r.queue === DELTA_QUEUE)?.moved).toBe(down.poisoned);

    // act again
    await world.drainDeltas();

    // assess
    expect(registeredObject(world.panorama)['10.1.0.9']).toEqual([
      'aks.aks-a.search',
      'aks.aks-a.svc.app.web',
      'aks_web.aks-a.search',
    ]);
    expect(await world.deps.queues.depth(poisonQueueName(DELTA_QUEUE))).toBe(0);
  });

  it('two concurrent recomputes of one cluster converge (one defers to the other)', async () => {
    // prepare
    kube().addService(internalService('shop', 'pay', ['10.1.0.20']));
    const other = world.otherInstance();

    // act
    const [a, b] = await Promise.all([world.recompute(CLUSTER), world.recompute(CLUSTER, { deps: other })]);

    // assess
    expect([a.status, b.status].sort()).toContain('busy');

    // act again
    await world.settle();

    // assess
    expect(registeredObject(world.panorama)['10.1.0.20']).toEqual(['aks.aks-a.pay']);
    const head = await world.deps.clusterState.getHead(CLUSTER);
    expect(head?.leaseOwner).toBeUndefined();
  });

  it('the audit restores tags after Panorama lost them and leaves foreign tags alone', async () => {
    // prepare
    const before = registeredObject(world.panorama);
    world.panorama.reboot();
    world.panorama.seedTags([
      { ip: '10.1.0.4', tags: ['owner.security-team', 'aks.other-cluster.web'] },
      { ip: '10.9.9.9', tags: ['aks.aks-a.ghost', 'azure.vm-name.jump'] },
    ]);

    // act
    const [outcome] = await auditTargets(world.deps, { force: true });

    // assess
    expect(outcome).toMatchObject({ target: 'panorama', status: 'audited', unregistered: 1 });
    const after = registeredObject(world.panorama);
    const owned = (m: Record<string, string[]>) =>
      Object.fromEntries(
        Object.entries(m)
          .map(([ip, tags]): [string, string[]] => [
            ip,
            tags.filter((t) => t.startsWith('aks.aks-a.') || t.startsWith('aks_web.aks-a.')),
          ])
          .filter(([, tags]) => tags.length > 0),
      );
    expect(owned(after)).toEqual(owned(before));
    expect(after['10.1.0.4']).toEqual(
      expect.arrayContaining(['owner.security-team', 'aks.other-cluster.web']),
    );
    expect(after['10.9.9.9']).toEqual(['azure.vm-name.jump']);
  });

  it('deleting the cluster unregisters all its tags and clears its state', async () => {
    // prepare
    world.panorama.seedTags([{ ip: '10.1.0.4', tags: ['owner.security-team'] }]);
    world.arm.removeCluster(
      `/subscriptions/${SUBSCRIPTION}/resourcegroups/rg-${CLUSTER}/providers/Microsoft.ContainerService/managedClusters/${CLUSTER}`,
    );

    // act
    const mapping = await handleResourceEvent(
      {
        id: 'evt-del',
        subject: `/subscriptions/${SUBSCRIPTION}/resourcegroups/rg-${CLUSTER}/providers/Microsoft.ContainerService/managedClusters/${CLUSTER}`,
        eventType: 'Microsoft.Resources.ResourceDeleteSuccess',
        eventTime: new Date().toISOString(),
        data: {},
      },
      world.deps,
    );

    // assess
    expect(mapping).toMatchObject({ kind: 'recompute', deleted: true });

    // act again
    await world.settle();

    // assess
    const remaining = Object.values(registeredObject(world.panorama)).flat();
    expect(remaining.filter((t) => t.includes('.aks-a.'))).toEqual([]);
    expect(remaining).toContain('owner.security-team');
    expect((await world.deps.clusterState.readIpTags(CLUSTER)).size).toBe(0);
    expect((await world.deps.clusterState.getHead(CLUSTER))?.deletedAt).toBeTruthy();
  });
});

describe('pipeline with device groups (firewalls through Panorama)', () => {
  let world: PipelineWorld;

  beforeAll(async () => {
    world = await startPipelineWorld({
      deviceGroups: {
        'dg-spoke': [{ serial: '0001' }, { serial: '0002' }, { serial: '0003', connected: false }],
      },
      clusters: [
        {
          name: 'aks-b',
          deviceGroups: ['dg-spoke'],
          services: [internalService('default', 'api', ['10.2.0.4', 'fd00::4'], { app: 'api' })],
        },
      ],
      duplicateMode: 'silent',
    });
  });
  afterAll(async () => world?.stop());

  it('registers on every connected firewall of the device group and records the disconnected one', async () => {
    // act
    const outcome = await world.recompute('aks-b');

    // assess
    expect(outcome.targets).toEqual(['0001', '0002']);
    expect(outcome.disconnected).toEqual(['0003']);

    // act again
    await world.drainDeltas();

    // assess
    const expected = {
      '10.2.0.4': ['aks.aks-b.api', 'aks.aks-b.svc.app.api'],
      'fd00::4': ['aks.aks-b.api', 'aks.aks-b.svc.app.api'],
    };
    expect(registeredObject(world.panorama, '0001')).toEqual(expected);
    expect(registeredObject(world.panorama, '0002')).toEqual(expected);
    expect(registeredObject(world.panorama, '0003')).toEqual({});
    expect(registeredObject(world.panorama)).toEqual({});
    const status = await collectStatus({ ...world.deps, monitored: ['aks-b'] });
    expect(status.clusters[0]?.targets.find((t) => t.target === '0003')?.disconnected).toBe(true);
  });

  it('a rebooted firewall and one that reconnects are repaired by the audit', async () => {
    // prepare
    world.panorama.reboot('0002');
    world.panorama.setConnected('0003', true);

    // act
    const outcomes = await auditTargets(world.deps, { force: true });

    // assess
    expect(outcomes.map((o) => [o.target, o.status, o.registered])).toEqual([
      ['0001', 'audited', 0],
      ['0002', 'audited', 4],
      ['0003', 'audited', 4],
    ]);
    expect(registeredObject(world.panorama, '0002')).toEqual(registeredObject(world.panorama, '0001'));
    expect(registeredObject(world.panorama, '0003')).toEqual(registeredObject(world.panorama, '0001'));
  });
});

describe('audit scope with two clusters on Panorama itself', () => {
  let world: PipelineWorld;

  beforeAll(async () => {
    world = await startPipelineWorld({
      clusters: [
        { name: 'aks-x', services: [internalService('a', 'web', ['10.7.0.1'])] },
        { name: 'aks-y', services: [internalService('a', 'api', ['10.7.0.2'])] },
      ],
    });
    await world.recompute('aks-x');
    await world.recompute('aks-y');
    await world.drainDeltas();
  });
  afterAll(async () => world?.stop());

  it('auditing one cluster never takes the tags of another cluster on the same target for stale', async () => {
    // act
    const outcomes = await auditTargets(world.deps, { force: true, clusters: ['aks-x'] });

    // assess
    expect(outcomes).toMatchObject([{ target: 'panorama', status: 'audited', unregistered: 0 }]);
    expect(registeredObject(world.panorama)).toEqual({
      '10.7.0.1': ['aks.aks-x.web'],
      '10.7.0.2': ['aks.aks-y.api'],
    });
  });

  it('a cluster removed from CLUSTERS is left alone by the audit: its tags stay, and are not restored', async () => {
    // prepare
    const config = { ...world.config, clusters: world.config.clusters.filter((c) => c.name === 'aks-x') };
    const { clusters, services } = createAksAdapters({
      config,
      directory: { resolveNodeResourceGroups: false },
    });
    world.panorama.seedTags([{ ip: '10.7.0.3', tags: ['aks.aks-y.manual'] }]);

    // act
    const outcomes = await auditTargets({ ...world.deps, clusters, services }, { force: true });

    // assess
    expect(outcomes).toMatchObject([
      { target: 'panorama', status: 'audited', registered: 0, unregistered: 0 },
    ]);
    expect(registeredObject(world.panorama)['10.7.0.2']).toEqual(['aks.aks-y.api']);
    expect(registeredObject(world.panorama)['10.7.0.3']).toEqual(['aks.aks-y.manual']);
  });
});
