import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditTargets } from '../../../shared/pipeline/auditTargets.js';
import { collectStatus } from '../../../shared/pipeline/collectStatus.js';
import { statusAttention } from '../../../shared/pipeline/statusAttention.js';
import { internalService, type PipelineWorld, startPipelineWorld } from '../../helpers/pipelineWorld.js';

const CLUSTER = 'aks-v';
const FW = '007951000000066';
const TARGET = `${FW}:vsys2`;
const CART = { '10.6.0.4': ['aks.aks-v.cart'] };

describe('a register to the vsys a device group holds is refused (multi-vsys firewall)', () => {
  let world: PipelineWorld;
  const table = (vsys: string) => Object.fromEntries(world.panorama.registered(FW, vsys));

  beforeAll(async () => {
    world = await startPipelineWorld({
      clusters: [
        { name: CLUSTER, deviceGroups: ['dg-v'], services: [internalService('shop', 'cart', ['10.6.0.4'])] },
      ],
      deviceGroups: {
        'dg-v': [{ serial: FW, hostname: 'fw-mv', vsys: ['vsys2'] }],
        'dg-other': [{ serial: FW, vsys: ['vsys1'] }],
      },
    });
    await world.recompute(CLUSTER);
    await world.drainDeltas();
  });
  afterAll(async () => world?.stop());

  it('before: the tags are in vsys2 only', () => {
    expect(table('vsys2')).toEqual(CART);
    expect(table('vsys1')).toEqual({});
  });

  it('the audit fails that target loudly, names the firewall, and sends nothing to another vsys', async () => {
    world.panorama.model.refuseVsys(FW, 'vsys2');
    world.panorama.reboot(FW, 'vsys2');

    const outcomes = await auditTargets(world.deps, { force: true });

    expect(outcomes).toMatchObject([{ target: TARGET, status: 'failed', hostname: 'fw-mv', vsys: 'vsys2' }]);
    expect(outcomes[0]?.error).toContain('Invalid vsys: vsys2');
    const line = world.logs.lines.find((l) => l.message === 'audit failed' && l.fields?.target === TARGET);
    expect(line?.fields).toMatchObject({ hostname: 'fw-mv', deviceGroup: 'dg-v', vsys: 'vsys2' });
    expect(table('vsys1')).toEqual({});
    const report = await collectStatus({ ...world.deps, monitored: [CLUSTER] });
    expect(statusAttention(report).join('\n')).toContain(`audit fw-mv (${FW} vsys2): `);
  });

  it('a push to it is retried, then poisoned — never redirected', async () => {
    world.kube.get(CLUSTER)?.addService(internalService('shop', 'checkout', ['10.6.0.5']));
    await world.recompute(CLUSTER);
    const drained = await world.drainDeltas(2);
    expect(drained.poisoned).toBe(1);
    expect(table('vsys1')).toEqual({});
  });

  it('once the vsys answers again, the next audit restores every tag there', async () => {
    world.panorama.model.refuseVsys(FW, 'vsys2', false);
    const [outcome] = await auditTargets(world.deps, { force: true });
    expect(outcome).toMatchObject({ target: TARGET, status: 'audited', registered: 2 });
    expect(table('vsys2')).toEqual({ ...CART, '10.6.0.5': ['aks.aks-v.checkout'] });
    expect(table('vsys1')).toEqual({});
  });
});
