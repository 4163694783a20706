import { describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../../shared/config/loadConfig.js';
import type { TagDelta } from '../../../shared/diff/TagDelta.js';
import {
  classify,
  describeError,
  FailureKind,
  FirewallNotConnectedError,
  PanoramaError,
} from '../../../shared/errors.js';
import type { KubeService } from '../../../shared/kubernetes/KubeService.js';
import {
  type DeltaMessage,
  parseDeltaMessage,
  toWireDeltaMessage,
} from '../../../shared/pipeline/messages.js';
import {
  MAX_DEFERRALS,
  type PushOutcome,
  StateNotCommittedError,
} from '../../../shared/pipeline/pushTagDeltas.js';
import { PUSH_STEP } from '../../../shared/pipeline/queueSteps.js';
import { recomputeCluster } from '../../../shared/pipeline/recomputeCluster.js';
import { decodeMessage } from '../../../shared/queues/PipelineQueues.js';
import { runQueueStep } from '../../../shared/queues/QueueStep.js';
import { DELTA_QUEUE } from '../../../shared/queues/queueNames.js';
import { parseLabelSelector } from '../../../shared/selectors/parseLabelSelector.js';
import { makeService } from '../../../sim/kubernetes/makeService.js';
import { memoryDeps } from '../../helpers/memoryDeps.js';
import { MemoryPanorama } from '../../helpers/memoryPanorama.js';
import { MemoryQueues } from '../../helpers/memoryStores.js';

const NOW = new Date('2025-03-01T10:00:00.000Z');
const CLUSTER = 'aks-mem';
const FIREWALL = '0101';

/** The `web` Service on 10.1.0.4 with `labels`. */
const web = (labels: Record<string, string>) =>
  makeService({ name: 'web', namespace: 'shop', labels, ips: ['10.1.0.4'] });
const WEB = web({ app: 'web' });
const DB = makeService({ name: 'db', namespace: 'shop', labels: { app: 'db' }, ips: ['10.1.0.5'] });
const WEB_TAGS = ['aks.aks-mem.svc.app.web', 'aks.aks-mem.web', 'aks_web.aks-mem.web'];
const DB_TAGS = ['aks.aks-mem.db', 'aks.aks-mem.svc.app.db'];

/** Where the cluster's tags go: Panorama itself (no device groups) or the firewall of `dg-1`. */
type Via = 'panorama' | 'firewall';

/**
 * One cluster serving `services` on in-memory storage and Panorama; the queues run on a clock the
 * test moves (`advance`), so a requeued message shows up only after its delay.
 */
function pushWorld(services: KubeService[], via: Via = 'panorama') {
  const cluster: ClusterConfig = {
    name: CLUSTER,
    auth: { type: 'azureAd' },
    labelSelectors: [{ name: 'web', source: 'app=web', selector: parseLabelSelector('app=web') }],
    deviceGroups: via === 'firewall' ? ['dg-1'] : [],
  };
  const panorama = new MemoryPanorama({
    firewalls: [{ serial: FIREWALL, deviceGroup: 'dg-1', connected: true }],
  });
  let clock = NOW.getTime();
  const queues = new MemoryQueues({ now: () => clock });
  const world = memoryDeps({ clusters: [cluster], services, now: NOW, overrides: { panorama, queues } });
  const advance = (ms: number) => {
    clock += ms;
  };
  return { ...world, panorama, queues, advance, target: via === 'firewall' ? FIREWALL : 'panorama' };
}

type PushWorld = ReturnType<typeof pushWorld>;

let requests = 0;
/** Recomputes the cluster (each request a little later, so none is coalesced). */
function recompute(world: PushWorld, deps = world.deps) {
  const requestedAt = new Date(NOW.getTime() + ++requests).toISOString();
  return recomputeCluster({ v: 1, cluster: CLUSTER, reason: 'test', requestedAt }, deps);
}

/** Runs every visible delta message through the push step, deleting each handled one (as the host). */
async function drain(world: PushWorld): Promise<PushOutcome[]> {
  const outcomes: PushOutcome[] = [];
  for (const m of await world.queues.receive(DELTA_QUEUE, 32, 30)) {
    outcomes.push(await runQueueStep(PUSH_STEP, decodeMessage(m.messageText), world.deps));
    await world.queues.delete(DELTA_QUEUE, m);
  }
  return outcomes;
}

/** The wire body of a delta message of the cluster to the world's target. */
function body(world: PushWorld, generation: number, deltas: TagDelta[], deferrals?: number) {
  return toWireDeltaMessage(message(world, generation, deltas, deferrals));
}

function message(world: PushWorld, generation: number, deltas: TagDelta[], deferrals?: number): DeltaMessage {
  return {
    v: 1,
    cluster: CLUSTER,
    target: world.target,
    generation,
    ...(deferrals === undefined ? {} : { deferrals }),
    deltas,
  };
}

/** The register/unregister calls (not the device-group look-ups of a recompute). */
function uidCalls(world: PushWorld) {
  return world.panorama.calls
    .filter((c) => c.method === 'registerTags' || c.method === 'unregisterTags')
    .map((c) => ({ method: c.method, target: c.target, entries: c.entries }));
}

/** The IP of the per-entry limit tests. */
const MANY = '10.1.0.7';

/**
 * Commits generation 1 with WEB and `count` label tags on {@link MANY} (the state holds any number;
 * the device at most 32), which already carries `foreign` tags on the device.
 */
async function manyTagsOn(world: PushWorld, foreign: number, count: number) {
  await recompute(world);
  const tags = Array.from({ length: count }, (_, i) => `aks.aks-mem.svc.k${String(i).padStart(2, '0')}.v`);
  await world.clusterState.seedCommitted(CLUSTER, new Map([[MANY, tags]]), 1);
  const held = Array.from({ length: foreign }, (_, i) => `owner.team${String(i).padStart(2, '0')}`);
  if (foreign) world.panorama.seed([{ ip: MANY, tags: held }]);
  const deltas: TagDelta[] = [
    { ip: '10.1.0.4', register: WEB_TAGS, unregister: [] },
    { ip: MANY, register: tags, unregister: [] },
  ];
  return { held, tags, deltas };
}

describe('pushTagDeltas on in-memory storage and Panorama', () => {
  it.each<[string, Via, string | undefined]>([
    ['Panorama itself', 'panorama', undefined],
    ['a firewall of the device group (target=<serial>)', 'firewall', FIREWALL],
  ])(
    'pushes a committed generation to %s, unregisters first, and records the push',
    async (_, via, serial) => {
      // prepare
      const world = pushWorld([WEB, DB], via);
      await recompute(world);

      // act
      const first = await drain(world);

      // assess
      expect(first).toMatchObject([
        { status: 'pushed', generation: 1, registered: 5, unregistered: 0, skipped: 0 },
      ]);
      expect(world.panorama.registered(serial)).toEqual({ '10.1.0.4': WEB_TAGS, '10.1.0.5': DB_TAGS });
      expect(world.panorama.registered(serial ? undefined : FIREWALL)).toEqual({});
      expect(await world.targetStatus.listPushStatus()).toMatchObject([
        {
          cluster: CLUSTER,
          target: world.target,
          lastPushAt: NOW.toISOString(),
          lastPushGeneration: 1,
          registered: 5,
          unregistered: 0,
          failedEntries: 0,
          disconnected: false,
          lastError: '',
        },
      ]);

      // act again: DB goes away, WEB gains a label
      world.services.splice(0, 2, web({ app: 'web', tier: 'front' }));
      await recompute(world);
      world.panorama.resetCalls();
      const second = await drain(world);

      // assess
      expect(second).toMatchObject([{ status: 'pushed', generation: 2, registered: 1, unregistered: 2 }]);
      expect(uidCalls(world)).toEqual([
        { method: 'unregisterTags', target: serial, entries: [{ ip: '10.1.0.5', tags: DB_TAGS }] },
        {
          method: 'registerTags',
          target: serial,
          entries: [{ ip: '10.1.0.4', tags: ['aks.aks-mem.svc.tier.front'] }],
        },
      ]);
      expect(world.panorama.registered(serial)).toEqual({
        '10.1.0.4': [...WEB_TAGS, 'aks.aks-mem.svc.tier.front'].sort(),
      });
      expect(await world.targetStatus.listPushStatus()).toMatchObject([
        { lastPushGeneration: 2, registered: 1, unregistered: 2, failedEntries: 0 },
      ]);
    },
  );

  it('sends only the pairs the state still holds and counts the others as skipped (level-triggered)', async () => {
    // prepare
    const world = pushWorld([WEB]);
    await recompute(world);
    await drain(world);
    world.panorama.seed([{ ip: '10.1.0.4', tags: ['aks.aks-mem.old'] }]);
    world.panorama.resetCalls();
    const deltas: TagDelta[] = [
      {
        ip: '10.1.0.4',
        register: ['aks.aks-mem.gone', 'aks.aks-mem.web'],
        unregister: ['aks.aks-mem.old', 'aks_web.aks-mem.web'],
      },
      { ip: '10.1.0.9', register: ['aks.aks-mem.x'], unregister: ['aks.aks-mem.y'] },
    ];

    // act
    const outcome = await runQueueStep(PUSH_STEP, body(world, 1, deltas), world.deps);

    // assess
    expect(outcome).toMatchObject({
      status: 'pushed',
      registered: 1,
      unregistered: 2,
      skipped: 3,
      failures: [],
    });
    expect(uidCalls(world)).toEqual([
      {
        method: 'unregisterTags',
        target: undefined,
        entries: [
          { ip: '10.1.0.4', tags: ['aks.aks-mem.old'] },
          { ip: '10.1.0.9', tags: ['aks.aks-mem.y'] },
        ],
      },
      { method: 'registerTags', target: undefined, entries: [{ ip: '10.1.0.4', tags: ['aks.aks-mem.web'] }] },
    ]);
    expect(world.panorama.registered()).toEqual({ '10.1.0.4': WEB_TAGS });
  });

  it('makes no call when nothing of the message still holds', async () => {
    // prepare
    const world = pushWorld([WEB]);
    await recompute(world);
    await drain(world);
    const before = await world.targetStatus.listPushStatus();
    world.panorama.resetCalls();
    const stale: TagDelta[] = [{ ip: '10.1.0.4', register: ['aks.aks-mem.gone'], unregister: WEB_TAGS }];

    // act
    const outcome = await runQueueStep(PUSH_STEP, body(world, 1, stale), world.deps);

    // assess
    expect(outcome).toMatchObject({ status: 'nothing-to-send', skipped: 4, calls: 0 });
    expect(world.panorama.calls).toEqual([]);
    expect(await world.targetStatus.listPushStatus()).toEqual(before);
  });

  it('reads the head once per message: the state comes from the head it checked the generation against', async () => {
    // prepare
    const world = pushWorld([WEB]);
    await recompute(world);
    const repo = world.deps.clusterState;
    const getHead = repo.getHead.bind(repo);
    let headReads = 0;
    repo.getHead = (cluster) => {
      headReads++;
      return getHead(cluster);
    };

    // act
    const outcomes = await drain(world);

    // assess
    expect(outcomes).toEqual([expect.objectContaining({ status: 'pushed' })]);
    expect(headReads).toBe(1);
  });

  it('converges to the current state whatever the order and number of deliveries', async () => {
    // prepare
    const world = pushWorld([web({ app: 'web', rev: 'v1' })]);
    await recompute(world);
    const [first] = world.queues.texts(DELTA_QUEUE).map(decodeMessage);
    world.services.splice(0, 1, web({ app: 'web', rev: 'v2' }));
    await recompute(world);
    const [, second] = world.queues.texts(DELTA_QUEUE).map(decodeMessage);

    // act: newest first, twice
    for (const m of [second, first, second, first]) await runQueueStep(PUSH_STEP, m, world.deps);

    // assess
    const state = await world.clusterState.readIpTags(CLUSTER);
    expect(state.get('10.1.0.4')).toContain('aks.aks-mem.svc.rev.v2');
    expect(world.panorama.registered()).toEqual(Object.fromEntries(state));
  });

  it.each([
    [0, 1],
    [1, 2],
    [2, 4],
    [3, 8],
    [4, 16],
    [5, 30],
    [MAX_DEFERRALS - 1, 30],
  ])(
    'defers a message %i times deferred whose generation is not committed: back after %i s',
    async (deferrals, seconds) => {
      // prepare
      const world = pushWorld([WEB]);
      await recompute(world);
      await drain(world);
      world.panorama.resetCalls();
      const future = message(world, 2, [{ ip: '10.1.0.4', register: ['aks.aks-mem.next'], unregister: [] }]);
      const sent = deferrals === 0 ? future : { ...future, deferrals };

      // act
      const outcome = await runQueueStep(PUSH_STEP, toWireDeltaMessage(sent), world.deps);

      // assess
      expect(outcome).toMatchObject({
        status: 'deferred',
        generation: 2,
        calls: 0,
        requeueAfter: { seconds },
      });
      expect(parseDeltaMessage(outcome.requeueAfter?.message)).toEqual({
        ...future,
        deferrals: deferrals + 1,
      });
      world.advance(seconds * 1000 - 1);
      expect(await world.queues.peek(DELTA_QUEUE)).toEqual([]);
      world.advance(1);
      const [requeued, ...more] = await world.queues.peek(DELTA_QUEUE);
      expect(more).toEqual([]);
      expect(parseDeltaMessage(decodeMessage(requeued?.messageText ?? ''))).toEqual({
        ...future,
        deferrals: deferrals + 1,
      });
      expect(world.panorama.calls).toEqual([]);
    },
  );

  it(`gives a message up to the host's retries after ${MAX_DEFERRALS} deferrals (StateNotCommittedError, retryable)`, async () => {
    // prepare
    const world = pushWorld([WEB]);
    await recompute(world);
    await drain(world);
    const exhausted = body(
      world,
      2,
      [{ ip: '10.1.0.4', register: ['aks.aks-mem.next'], unregister: [] }],
      MAX_DEFERRALS,
    );

    // act
    const error = await runQueueStep(PUSH_STEP, exhausted, world.deps).catch((err: unknown) => err);

    // assess
    expect(error).toBeInstanceOf(StateNotCommittedError);
    expect(classify(error)).toBe(FailureKind.retryable);
    expect(world.queues.texts(DELTA_QUEUE)).toEqual([]);
  });

  it('lands the message of a recompute that crashed before its commit once the next recompute commits', async () => {
    // prepare
    const world = pushWorld([WEB]);
    await recompute(world);
    await drain(world);
    world.services.push(DB);
    const crash = (phase: string) => {
      if (phase === 'write-snapshot') throw new Error('process is gone');
    };
    await recompute(world, { ...world.deps, onRecomputePhase: crash }).catch(() => undefined);

    // act
    const waiting = await drain(world);

    // assess
    expect(waiting).toMatchObject([{ status: 'deferred', generation: 2 }]);
    expect(world.panorama.registered()['10.1.0.5']).toBeUndefined();

    // act again: a later recompute (past any lease) commits; the requeued message comes back
    const later = new Date(NOW.getTime() + (world.deps.leaseSeconds + 1) * 1000);
    await recompute(world, { ...world.deps, now: () => later });
    world.advance(1000);
    const landed = await drain(world);

    // assess
    expect(landed).toContainEqual(expect.objectContaining({ generation: 2, status: 'pushed' }));
    expect(landed.map((o) => o.status)).not.toContain('deferred');
    expect(world.panorama.registered()).toEqual({ '10.1.0.4': WEB_TAGS, '10.1.0.5': DB_TAGS });
  });

  it.each<[string, number, number]>([
    ['32 tags on a new IP', 0, 32],
    ['12 tags on an IP holding 20 foreign ones', 20, 12],
  ])('per-entry limit: registers %s (32 in all)', async (_, foreign, count) => {
    // prepare
    const world = pushWorld([WEB]);
    const { held, tags, deltas } = await manyTagsOn(world, foreign, count);

    // act
    const outcome = await runQueueStep(PUSH_STEP, body(world, 1, deltas), world.deps);

    // assess
    expect(outcome).toMatchObject({ status: 'pushed', registered: 3 + count, failures: [] });
    expect(world.panorama.registered()).toEqual({ '10.1.0.4': WEB_TAGS, [MANY]: [...held, ...tags].sort() });
    expect(await world.targetStatus.listPushStatus()).toMatchObject([
      { lastPushGeneration: 1, registered: 3 + count, failedEntries: 0, lastError: '' },
    ]);
  });

  it.each<[string, number, number]>([
    ['33 tags on a new IP', 0, 33],
    ['13 tags on an IP holding 20 foreign ones', 20, 13],
  ])('per-entry limit: rejects %s, records it, lands the rest and completes', async (_, foreign, count) => {
    // prepare
    const world = pushWorld([WEB]);
    const { held, tags, deltas } = await manyTagsOn(world, foreign, count);

    // act
    const outcome = await runQueueStep(PUSH_STEP, body(world, 1, deltas), world.deps);

    // assess: only what the device accepted counts as registered
    expect(outcome).toMatchObject({ status: 'entry-failures', registered: 3 });
    expect(outcome.failures).toEqual([
      { ip: MANY, tags, message: expect.stringMatching(/maximum of 32 tags/), operation: 'register' },
    ]);
    expect(world.panorama.registered()).toEqual({
      '10.1.0.4': WEB_TAGS,
      ...(foreign ? { [MANY]: held } : {}),
    });
    expect(await world.targetStatus.listPushStatus()).toMatchObject([
      {
        lastPushGeneration: 1,
        registered: 3,
        failedEntries: 1,
        lastError: expect.stringMatching(
          new RegExp(`^1 entries rejected: ${MANY} \\[.*, \\+${count - 5} more\\]`),
        ),
        lastErrorAt: NOW.toISOString(),
      },
    ]);
    expect(world.queues.texts(DELTA_QUEUE)).toHaveLength(1);
  });

  it('registers again without a failure what the device already holds (idempotent)', async () => {
    // prepare
    const world = pushWorld([WEB]);
    await recompute(world);
    const [queued] = world.queues.texts(DELTA_QUEUE).map(decodeMessage);
    await runQueueStep(PUSH_STEP, queued, world.deps);

    // act
    const again = await runQueueStep(PUSH_STEP, queued, world.deps);

    // assess
    expect(again).toMatchObject({ status: 'pushed', registered: 3, failures: [] });
    expect(world.panorama.registered()).toEqual({ '10.1.0.4': WEB_TAGS });
  });

  it.each<[string, Error]>([
    [
      'a retryable failure (HTTP 503)',
      new PanoramaError('Panorama register on Panorama failed: HTTP 503', { kind: FailureKind.retryable }),
    ],
    [
      'a permanent failure (HTTP 404)',
      new PanoramaError('Panorama register on Panorama failed: HTTP 404', { kind: FailureKind.permanent }),
    ],
  ])('%s of a whole call throws, is recorded, and the retried message lands', async (_, failure) => {
    // prepare
    const world = pushWorld([WEB]);
    await recompute(world);
    const [queued] = world.queues.texts(DELTA_QUEUE).map(decodeMessage);
    world.panorama.failNext(1, failure, (c) => c.method === 'registerTags');

    // act
    const error = await runQueueStep(PUSH_STEP, queued, world.deps).catch((err: unknown) => err);

    // assess
    expect(error).toBe(failure);
    expect(world.panorama.registered()).toEqual({});
    const [failed] = await world.targetStatus.listPushStatus();
    expect(failed).toMatchObject({ lastError: describeError(failure), lastErrorAt: NOW.toISOString() });
    expect(failed?.lastPushAt).toBeUndefined();
    expect(world.queues.texts(DELTA_QUEUE)).toHaveLength(1);

    // act again: the host retries the message
    const retried = await runQueueStep(PUSH_STEP, queued, world.deps);

    // assess
    expect(retried).toMatchObject({ status: 'pushed', registered: 3 });
    expect(world.panorama.registered()).toEqual({ '10.1.0.4': WEB_TAGS });
    expect(await world.targetStatus.listPushStatus()).toMatchObject([
      { lastPushGeneration: 1, lastError: '' },
    ]);
  });

  it.each<[string, (panorama: MemoryPanorama) => void]>([
    ['the device reports the firewall not connected', (p) => p.setConnected(FIREWALL, false)],
    [
      'the call fails with FirewallNotConnectedError',
      (p) => p.failNext(1, new FirewallNotConnectedError(FIREWALL)),
    ],
  ])('a disconnected firewall (%s) is recorded and the message completes', async (_, disconnect) => {
    // prepare
    const world = pushWorld([WEB], 'firewall');
    await recompute(world);
    const [queued] = world.queues.texts(DELTA_QUEUE).map(decodeMessage);
    disconnect(world.panorama);

    // act
    const outcome = await runQueueStep(PUSH_STEP, queued, world.deps);

    // assess
    expect(outcome).toMatchObject({ status: 'disconnected', target: FIREWALL, calls: 0 });
    expect(outcome.requeueAfter).toBeUndefined();
    expect(await world.targetStatus.listPushStatus()).toMatchObject([
      {
        cluster: CLUSTER,
        target: FIREWALL,
        disconnected: true,
        lastError: expect.stringMatching(/not connected/),
        lastErrorAt: NOW.toISOString(),
      },
    ]);
    expect(world.panorama.registered(FIREWALL)).toEqual({});
    expect(world.queues.texts(DELTA_QUEUE)).toHaveLength(1);
  });
});
