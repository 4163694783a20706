import { afterEach, describe, expect, it } from 'vitest';
import { formatPanoramaPeers, panoramaPeersReport } from '../../../shared/panorama/panoramaPeersReport.js';
import { collectStatus } from '../../../shared/pipeline/collectStatus.js';
import { statusAttention } from '../../../shared/pipeline/statusAttention.js';
import {
  internalService,
  type PipelineWorld,
  registeredObject,
  startPipelineWorld,
} from '../../helpers/pipelineWorld.js';

const CLUSTER = 'aks-ha';
const FW = '007951000000055';

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

async function haWorld(): Promise<PipelineWorld> {
  world = await startPipelineWorld({
    ha: true,
    clusters: [
      {
        name: CLUSTER,
        deviceGroups: ['dg-ha'],
        services: [internalService('shop', 'cart', ['10.5.0.4'])],
      },
    ],
    deviceGroups: { 'dg-ha': [{ serial: FW, hostname: 'fw-ha-1' }] },
  });
  await world.recompute(CLUSTER);
  await world.drainDeltas();
  expect(registeredObject(world.panorama, FW)).toEqual({
    '10.5.0.4': ['aks.aks-ha.cart'],
  });
  return world;
}

function userIdCalls(w: PipelineWorld, peer: 'primary' | 'secondary'): number {
  return (w.haPair?.[peer].calls ?? []).filter((c) => c.type === 'user-id' && c.target === FW).length;
}

describe('a push across a Panorama HA failover (real pipeline, Azurite, HA pair simulator)', () => {
  it.each([
    ['the active peer goes down', async (w: PipelineWorld) => w.haPair?.crash('primary')],
    ['the active peer turns passive', async (w: PipelineWorld) => w.haPair?.failover()],
  ])('%s between two recomputes: the tags land on the firewall through the other peer', async (_, fail) => {
    const w = await haWorld();
    expect(userIdCalls(w, 'primary')).toBeGreaterThan(0);
    w.kube.get(CLUSTER)?.addService(internalService('shop', 'checkout', ['10.5.0.5']));

    await fail(w);
    const outcome = await w.recompute(CLUSTER);
    const drained = await w.drainDeltas();

    expect(outcome.status).toBe('changed');
    expect(drained.poisoned).toBe(0);
    expect(registeredObject(w.panorama, FW)).toEqual({
      '10.5.0.4': ['aks.aks-ha.cart'],
      '10.5.0.5': ['aks.aks-ha.checkout'],
    });
    expect(userIdCalls(w, 'secondary')).toBeGreaterThan(0);
    expect(w.haPair?.active()).toBe('secondary');

    const report = await panoramaPeersReport(w.deps.panorama, w.deps.now());
    expect(report?.active).toBe(w.haPair?.secondary.url);
    expect(formatPanoramaPeers(report ?? { peers: [] })).toContain(w.haPair?.secondary.url);
    const status = await collectStatus({ ...w.deps, monitored: [CLUSTER] });
    expect(statusAttention(status, report)).toEqual([]);

    const pushed = w.logs.lines.filter((l) => l.message === 'push done' && l.fields?.target === FW);
    expect(pushed.at(-1)?.fields).toMatchObject({
      cluster: CLUSTER,
      target: FW,
      hostname: 'fw-ha-1',
      serial: FW,
      deviceGroup: 'dg-ha',
    });
  });
});
