import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditTargets } from '../../../shared/pipeline/auditTargets.js';
import { collectStatus } from '../../../shared/pipeline/collectStatus.js';
import type { PipelineDeps } from '../../../shared/pipeline/PipelineDeps.js';
import { recomputeCluster } from '../../../shared/pipeline/recomputeCluster.js';
import {
  internalService,
  type PipelineWorld,
  registeredObject,
  startPipelineWorld,
} from '../../helpers/pipelineWorld.js';

const DG = 'dg-guard';
const FW = '0301';

/** `n` internal Services `svc-<i>` of namespace `ns`, each with one IP of `10.<octet>.0.<i>`. */
function services(ns: string, octet: number, n: number) {
  return Array.from({ length: n }, (_, i) => internalService(ns, `svc-${i}`, [`10.${octet}.0.${i + 1}`]));
}

function ownedPairs(world: PipelineWorld, cluster: string): number {
  let n = 0;
  for (const tags of world.panorama.registered(FW).values())
    n += tags.filter((t) => t.startsWith(`aks.${cluster}.`)).length;
  return n;
}

function request(cluster: string) {
  return { v: 1 as const, cluster, reason: 'test', requestedAt: new Date().toISOString() };
}

describe('removal guard, upsert-only and confirmed deletes (Azurite and the simulators)', () => {
  let world: PipelineWorld;
  const kube = (cluster: string) => {
    const sim = world.kube.get(cluster);
    if (!sim) throw new Error(`no simulator for ${cluster}`);
    return sim;
  };
  /** Syncs a cluster and pushes its deltas: the firewall holds its tags. */
  const sync = async (cluster: string, deps: PipelineDeps = world.deps) => {
    const outcome = await recomputeCluster(request(cluster), deps);
    await world.drainDeltas();
    return outcome;
  };

  beforeAll(async () => {
    world = await startPipelineWorld({
      clusters: [
        { name: 'aks-held', deviceGroups: [DG], services: services('shop', 11, 30) },
        { name: 'aks-off', deviceGroups: [DG], services: services('shop', 12, 30) },
        { name: 'aks-upsert', deviceGroups: [DG], services: services('shop', 13, 30) },
        { name: 'aks-gone', deviceGroups: [DG], services: services('shop', 14, 30) },
      ],
      deviceGroups: { [DG]: [{ serial: FW }] },
    });
    for (const c of ['aks-held', 'aks-off', 'aks-upsert', 'aks-gone']) await sync(c);
  });
  afterAll(async () => world?.stop());

  it('holds a mass removal: new tags go through, the removed ones stay on the firewall and in the state until approved', async () => {
    // prepare: every Service disappears from the list (a namespace deleted, RBAC narrowed) and one new one comes
    expect(ownedPairs(world, 'aks-held')).toBe(30);
    for (let i = 0; i < 30; i++) kube('aks-held').deleteService('shop', `svc-${i}`);
    kube('aks-held').addService(internalService('shop', 'new', ['10.11.1.1']));

    // act
    const held = await sync('aks-held');

    // assess: held, with the counts and what to do; the new Service is on the firewall
    expect(held).toMatchObject({
      status: 'held',
      held: { removals: 30, committedPairs: 30 },
      registered: 1,
      unregistered: 0,
    });
    expect(held.held?.reason).toMatch(/30 of 30 .*--allow-removals/);
    expect(ownedPairs(world, 'aks-held')).toBe(31);
    expect((await world.deps.clusterState.readIpTags('aks-held')).size).toBe(31);
    expect(world.logs.lines.some((e) => e.level === 'error' && /removal guard/.test(e.message))).toBe(true);
    const status = await collectStatus({ ...world.deps, monitored: ['aks-held'] });
    expect(status.clusters.find((c) => c.cluster === 'aks-held')).toMatchObject({
      lastRecomputeResult: 'held',
      heldRemovals: 30,
      lastError: expect.stringMatching(/removal guard/),
    });

    // act again: the next recompute (timer) finds the same removals and holds again; the audit removes nothing
    const again = await sync('aks-held');
    await auditTargets(world.deps, { force: true, clusters: ['aks-held'] });

    // assess
    expect(again).toMatchObject({ status: 'held', held: { removals: 30, committedPairs: 30 } });
    expect(ownedPairs(world, 'aks-held')).toBe(31);

    // act: the operator approves
    const approved = await recomputeCluster(request('aks-held'), world.deps, { allowRemovals: true });
    await world.drainDeltas();

    // assess: removed once, and the hold is gone
    expect(approved).toMatchObject({ status: 'changed', unregistered: 30 });
    expect(approved.held).toBeUndefined();
    expect(ownedPairs(world, 'aks-held')).toBe(1);
    expect((await world.deps.clusterState.getHead('aks-held'))?.heldRemovals).toBe(0);
    expect((await sync('aks-held')).status).toBe('unchanged');
  });

  it('REMOVAL_GUARD_PERCENT=0 turns the guard off', async () => {
    // prepare
    const off: PipelineDeps = { ...world.deps, removalGuard: { percent: 0, min: 20 } };
    for (let i = 0; i < 30; i++) kube('aks-off').deleteService('shop', `svc-${i}`);

    // act
    const outcome = await sync('aks-off', off);

    // assess
    expect(outcome).toMatchObject({ status: 'changed', unregistered: 30 });
    expect(ownedPairs(world, 'aks-off')).toBe(0);
  });

  it('upsert-only never unregisters: not on recompute, not in the audit; the state follows the cluster', async () => {
    // prepare
    const upsert: PipelineDeps = { ...world.deps, syncPolicy: 'upsert-only' };
    for (let i = 0; i < 30; i++) kube('aks-upsert').deleteService('shop', `svc-${i}`);
    kube('aks-upsert').addService(internalService('shop', 'added', ['10.13.1.1']));

    // act
    const outcome = await sync('aks-upsert', upsert);
    const audits = await auditTargets(upsert, { force: true, clusters: ['aks-upsert'] });

    // assess
    expect(outcome).toMatchObject({ status: 'changed', registered: 1, unregistered: 0 });
    expect(outcome.held).toBeUndefined();
    expect(ownedPairs(world, 'aks-upsert')).toBe(31);
    expect([...(await world.deps.clusterState.readIpTags('aks-upsert')).keys()]).toEqual(['10.13.1.1']);
    expect(audits.find((a) => a.target === FW)).toMatchObject({ status: 'audited', unregistered: 0 });
    expect(ownedPairs(world, 'aks-upsert')).toBe(31);

    // act: back to sync, the audit removes what upsert-only left behind
    const synced = await auditTargets(world.deps, { force: true, clusters: ['aks-upsert'] });

    // assess
    expect(synced.find((a) => a.target === FW)).toMatchObject({ unregistered: 30 });
    expect(registeredObject(world.panorama, FW)['10.13.1.1']).toEqual(['aks.aks-upsert.added']);
    expect(ownedPairs(world, 'aks-upsert')).toBe(1);
  });

  it('a confirmed delete of the cluster is never held', async () => {
    // act
    const outcome = await world.recompute('aks-gone', { deleted: true });
    await world.drainDeltas();

    // assess
    expect(outcome).toMatchObject({ status: 'deleted', unregistered: 30 });
    expect(ownedPairs(world, 'aks-gone')).toBe(0);
  });
});
