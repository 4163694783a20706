import { describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../../shared/config/loadConfig.js';
import type { ManagedFirewall, PanoramaApi } from '../../../shared/panorama/PanoramaApi.js';
import { auditTargets } from '../../../shared/pipeline/auditTargets.js';
import { collectStatus, formatStatus } from '../../../shared/pipeline/collectStatus.js';
import { PUSH_STEP } from '../../../shared/pipeline/queueSteps.js';
import { recomputeCluster } from '../../../shared/pipeline/recomputeCluster.js';
import { firewallTargets, resolveTargets } from '../../../shared/pipeline/resolveTargets.js';
import { decodeMessage } from '../../../shared/queues/PipelineQueues.js';
import { runQueueStep } from '../../../shared/queues/QueueStep.js';
import { DELTA_QUEUE } from '../../../shared/queues/queueNames.js';
import { makeService } from '../../../sim/kubernetes/makeService.js';
import { memoryDeps } from '../../helpers/memoryDeps.js';
import { MemoryPanorama } from '../../helpers/memoryPanorama.js';

const NOW = new Date('2025-03-01T10:00:00.000Z');
const MULTI = '0201';
const SINGLE = '0202';

const cluster = (deviceGroups: string[]): ClusterConfig => ({
  name: 'aks-v',
  auth: { type: 'azureAd' },
  labelSelectors: [],
  deviceGroups,
});
const WEB = makeService({ name: 'web', namespace: 'shop', ips: ['10.2.0.4'] });
const WEB_TAGS = ['aks.aks-v.web'];

describe('firewallTargets: one target per vsys the group holds', () => {
  const fw = (over: Partial<ManagedFirewall>): ManagedFirewall => ({
    serial: MULTI,
    deviceGroup: 'dg',
    connected: true,
    ...over,
  });
  it.each<[Partial<ManagedFirewall>, string[], (string | undefined)[]]>([
    [{}, [MULTI], [undefined]],
    [{ multiVsys: false, vsys: ['vsys1'] }, [MULTI], [undefined]],
    [{ multiVsys: true }, [MULTI], [undefined]],
    [{ multiVsys: true, vsys: [] }, [MULTI], [undefined]],
    [{ multiVsys: true, vsys: ['vsys2'] }, [`${MULTI}:vsys2`], ['vsys2']],
    [{ multiVsys: true, vsys: ['vsys1', 'vsys3'] }, [`${MULTI}:vsys1`, `${MULTI}:vsys3`], ['vsys1', 'vsys3']],
  ])('%o → %o', (over, ids, vsys) => {
    const targets = firewallTargets(fw(over));
    expect(targets.map((t) => t.id)).toEqual(ids);
    expect(targets.map((t) => t.info.vsys)).toEqual(vsys);
  });
});

describe('resolveTargets', () => {
  const panorama = (firewalls: ManagedFirewall[]): PanoramaApi => ({
    registerTags: () => Promise.reject(new Error('unused')),
    unregisterTags: () => Promise.reject(new Error('unused')),
    listRegisteredIps: () => Promise.reject(new Error('unused')),
    listDeviceGroupFirewalls: async () => firewalls,
  });

  it('targets each (firewall, vsys), with hostname and holding group; a group resolving to nothing is a problem', async () => {
    const resolved = await resolveTargets(
      cluster(['dg-hub', 'dg-empty']),
      panorama([
        {
          serial: MULTI,
          deviceGroup: 'dg-a',
          notifyGroup: 'dg-hub',
          connected: true,
          hostname: 'fw-m',
          multiVsys: true,
          vsys: ['vsys2', 'vsys3'],
        },
        { serial: SINGLE, deviceGroup: 'dg-b', notifyGroup: 'dg-hub', connected: false, hostname: 'fw-s' },
        { serial: 'PA-1', deviceGroup: 'dg-b', notifyGroup: 'dg-hub', connected: true },
      ]),
    );
    expect(resolved.targets).toEqual([`${MULTI}:vsys2`, `${MULTI}:vsys3`]);
    expect(resolved.disconnected).toEqual([SINGLE]);
    expect(Object.fromEntries(resolved.info)).toEqual({
      [`${MULTI}:vsys2`]: { serial: MULTI, hostname: 'fw-m', deviceGroup: 'dg-a', vsys: 'vsys2' },
      [`${MULTI}:vsys3`]: { serial: MULTI, hostname: 'fw-m', deviceGroup: 'dg-a', vsys: 'vsys3' },
      [SINGLE]: { serial: SINGLE, hostname: 'fw-s', deviceGroup: 'dg-b' },
    });
    expect(resolved.problems).toEqual([
      expect.stringMatching(/^device group dg-empty resolves to no firewall/),
      expect.stringMatching(/^firewall "PA-1" of device group dg-b has no usable serial/),
    ]);
  });

  it('Panorama itself when the cluster has no device groups', async () => {
    expect(await resolveTargets(cluster([]), panorama([]))).toEqual({
      targets: ['panorama'],
      disconnected: [],
      info: new Map(),
      problems: [],
    });
  });
});

/** A nested group `dg-hub` ⊃ `dg-spoke` holding vsys2 of a multi-vsys firewall (vsys1 elsewhere) and a single-vsys one. */
function vsysWorld(deviceGroups: string[]) {
  const panorama = new MemoryPanorama({ deviceGroups: ['dg-hub', 'dg-empty'] });
  panorama.model.addFirewall('dg-spoke', MULTI, { vsys: ['vsys2'], hostname: 'fw-multi' });
  panorama.model.addFirewall('dg-other', MULTI, { vsys: ['vsys1'] });
  panorama.model.addFirewall('dg-spoke', SINGLE, { hostname: 'fw-single' });
  panorama.model.setParentGroup('dg-spoke', 'dg-hub');
  const world = memoryDeps({
    clusters: [cluster(deviceGroups)],
    services: [WEB],
    now: NOW,
    overrides: { panorama },
  });
  return { ...world, panorama };
}

async function syncOnce(world: ReturnType<typeof vsysWorld>, at = NOW) {
  const outcome = await recomputeCluster(
    { v: 1, cluster: 'aks-v', reason: 'test', requestedAt: at.toISOString() },
    world.deps,
  );
  for (const m of await world.queues.receive(DELTA_QUEUE, 32, 30)) {
    await runQueueStep(PUSH_STEP, decodeMessage(m.messageText), world.deps);
    await world.queues.delete(DELTA_QUEUE, m);
  }
  return outcome;
}

describe('targets are (firewall, vsys) of a device group and its descendants', () => {
  it('a parent group pushes to the vsys its descendant holds, and the audit reads that vsys back', async () => {
    const world = vsysWorld(['dg-hub']);

    const outcome = await syncOnce(world);

    expect(outcome).toMatchObject({ status: 'changed', targets: [`${MULTI}:vsys2`, SINGLE] });
    expect(outcome.targetProblems).toBeUndefined();
    expect(world.panorama.registered(MULTI, 'vsys2')).toEqual({ '10.2.0.4': WEB_TAGS });
    expect(world.panorama.registered(MULTI, 'vsys1')).toEqual({});
    expect(world.panorama.registered(SINGLE)).toEqual({ '10.2.0.4': WEB_TAGS });
    const pushes = world.panorama.calls.filter((c) => c.method === 'registerTags');
    expect(pushes.map((c) => [c.target, c.vsys])).toEqual(
      expect.arrayContaining([
        [SINGLE, undefined],
        [MULTI, 'vsys2'],
      ]),
    );

    // Drift in vsys2 only: the audit reads vsys2 (not the default) and repairs it.
    world.panorama.reboot(MULTI, 'vsys2');
    world.panorama.resetCalls();
    const audits = await auditTargets(world.deps, { force: true });
    expect(audits.map((a) => [a.target, a.status, a.registered, a.hostname, a.deviceGroup, a.vsys])).toEqual([
      [`${MULTI}:vsys2`, 'audited', 1, 'fw-multi', 'dg-spoke', 'vsys2'],
      [SINGLE, 'audited', 0, 'fw-single', 'dg-spoke', undefined],
    ]);
    expect(world.panorama.registered(MULTI, 'vsys2')).toEqual({ '10.2.0.4': WEB_TAGS });
    expect(world.panorama.calls.filter((c) => c.method === 'listRegisteredIps').map((c) => c.vsys)).toEqual([
      'vsys2',
      undefined,
    ]);

    const text = formatStatus(await collectStatus({ ...world.deps, monitored: ['aks-v'] }));
    expect(text).toContain(`target fw-multi (${MULTI} vsys2), device group dg-spoke: last push`);
    expect(text).toContain(`target fw-single (${SINGLE}), device group dg-spoke: last push`);
  });

  it('a configured group that resolves to no firewall is an error in the head and status, kept until resolved', async () => {
    const world = vsysWorld(['dg-spoke', 'dg-empty']);

    const first = await syncOnce(world);

    expect(first.targets).toEqual([`${MULTI}:vsys2`, SINGLE]);
    expect(first.targetProblems).toEqual([
      expect.stringMatching(/^device group dg-empty resolves to no firewall/),
    ]);
    expect((await world.clusterState.getHead('aks-v'))?.targetProblems).toMatch(/dg-empty/);
    const status = formatStatus(await collectStatus({ ...world.deps, monitored: ['aks-v'] }));
    expect(status).toMatch(/ {2}ERROR: device group dg-empty resolves to no firewall/);

    // An unchanged recompute does not resolve targets: the problem stays on the head and in its outcome.
    const second = await syncOnce(world, new Date(NOW.getTime() + 1000));
    expect(second.status).toBe('unchanged');
    expect(second.targetProblems).toEqual(first.targetProblems);

    // A firewall joins the group: the audit resolves again and clears the problem.
    world.panorama.model.addFirewall('dg-empty', '0203');
    await auditTargets(world.deps, { force: true });
    expect((await world.clusterState.getHead('aks-v'))?.targetProblems).toBeUndefined();
  });
});
