import { afterEach, describe, expect, it } from 'vitest';
import { PanoramaClient } from '../../../shared/panorama/PanoramaClient.js';
import { auditTargets } from '../../../shared/pipeline/auditTargets.js';
import { collectStatus, formatStatus } from '../../../shared/pipeline/collectStatus.js';
import type { PipelineDeps } from '../../../shared/pipeline/PipelineDeps.js';
import { statusAttention } from '../../../shared/pipeline/statusAttention.js';
import {
  internalService,
  type PipelineWorld,
  registeredObject,
  startPipelineWorld,
} from '../../helpers/pipelineWorld.js';

const CLUSTER = 'aks-t';
const FW = '007951000000077';
const MINUTE = 60_000;
const TAGS = {
  '10.7.0.4': ['aks.aks-t.cart', 'aks.aks-t.svc.app.web', 'aks_web.aks-t.cart'],
  '10.7.0.5': ['aks.aks-t.checkout', 'aks.aks-t.svc.app.web', 'aks_web.aks-t.checkout'],
};

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

/** A world whose pipeline clock and simulator clock move together, without waiting. */
async function timedWorld(settings: Record<string, string>) {
  const w = await startPipelineWorld({
    clusters: [
      {
        name: CLUSTER,
        deviceGroups: ['dg-t'],
        labelSelectors: [{ name: 'web', selector: 'app=web' }],
        services: [
          internalService('shop', 'cart', ['10.7.0.4'], { app: 'web' }),
          internalService('shop', 'checkout', ['10.7.0.5'], { app: 'web' }),
        ],
      },
    ],
    deviceGroups: { 'dg-t': [{ serial: FW, hostname: 'fw-timed' }] },
    settings,
  });
  world = w;
  let clock = Date.now();
  const deps: PipelineDeps = { ...w.deps, now: () => new Date(clock) };
  const advance = (minutes: number) => {
    clock += minutes * MINUTE;
    w.panorama.model.advanceClock(minutes * MINUTE);
  };
  const status = async () => {
    const report = await collectStatus({ ...deps, monitored: [CLUSTER] });
    return { report, attention: statusAttention(report) };
  };
  await w.recompute(CLUSTER);
  await w.drainDeltas();
  return { w, deps, advance, status };
}

describe('TAG_TIMEOUT_MINUTES through the pipeline (Azurite, simulators)', () => {
  it('pushed tags carry the timeout; a healthy service re-registers them so that policy never lapses', async () => {
    const { w, deps, advance } = await timedWorld({
      TAG_TIMEOUT_MINUTES: '60',
      AUDIT_INTERVAL_MINUTES: '15',
    });
    expect(registeredObject(w.panorama, FW)).toEqual(TAGS);
    expect(w.panorama.model.timeouts(FW).get('10.7.0.4')?.size).toBe(3);

    // The reconcile timer runs every 5 minutes for 2 hours: two timeouts.
    let refreshes = 0;
    for (let pass = 0; pass < 24; pass++) {
      const [outcome] = await auditTargets(deps);
      if (outcome?.refreshed !== undefined) refreshes++;
      expect(outcome?.registered ?? 0).toBe(0);
      expect(registeredObject(w.panorama, FW)).toEqual(TAGS);
      advance(5);
    }
    // Every 15 minutes (half the timeout minus one audit interval), never more often than audits run.
    expect(refreshes).toBeGreaterThanOrEqual(6);
    expect(refreshes).toBeLessThanOrEqual(8);
  });

  it('the first audit refreshes, records when, and logs the firewall by hostname', async () => {
    const { w, deps } = await timedWorld({ TAG_TIMEOUT_MINUTES: '60', AUDIT_INTERVAL_MINUTES: '15' });
    const [outcome] = await auditTargets(deps);
    expect(outcome).toMatchObject({
      target: FW,
      status: 'audited',
      refreshed: 6,
      registered: 0,
      hostname: 'fw-timed',
    });
    const [row] = await deps.targetStatus.listAuditStatus();
    expect(row?.lastRefreshAt).toBe(deps.now().toISOString());
    const line = w.logs.lines.find((e) => e.message === 'audit done');
    expect(line?.fields).toMatchObject({
      target: FW,
      hostname: 'fw-timed',
      deviceGroup: 'dg-t',
      refreshed: 6,
    });
  });

  it('if the service stops, the tags lapse after the timeout (fail closed); status flags it, and the next audit restores them', async () => {
    const { w, deps, advance, status } = await timedWorld({
      TAG_TIMEOUT_MINUTES: '60',
      AUDIT_INTERVAL_MINUTES: '15',
    });
    await auditTargets(deps);
    expect((await status()).attention).toEqual([]);
    expect(formatStatus((await status()).report)).toContain('tags: expire 60 minutes after');

    advance(31);
    const stale = (await status()).attention;
    expect(stale).toHaveLength(1);
    expect(stale[0]).toContain(`audit ${FW}: tags last re-registered`);
    expect(stale[0]).toContain('TAG_TIMEOUT_MINUTES (60)');

    advance(30);
    expect(registeredObject(w.panorama, FW)).toEqual({});

    const [outcome] = await auditTargets(deps);
    expect(outcome).toMatchObject({ status: 'audited', registered: 6, refreshed: 6 });
    expect(registeredObject(w.panorama, FW)).toEqual(TAGS);
    expect((await status()).attention).toEqual([]);
  });

  it('a device that does not restart the timer on a re-register still gets lapsed tags back from the read-back', async () => {
    const { w, deps, advance } = await timedWorld({
      TAG_TIMEOUT_MINUTES: '30',
      AUDIT_INTERVAL_MINUTES: '15',
    });
    w.panorama.model.restartTimeoutOnRegister = false;
    let lapsedPasses = 0;
    for (let pass = 0; pass < 12; pass++) {
      advance(5);
      const lapsed = Object.keys(registeredObject(w.panorama, FW)).length < 2;
      if (lapsed) lapsedPasses++;
      await auditTargets(deps);
      expect(registeredObject(w.panorama, FW)).toEqual(TAGS);
    }
    expect(lapsedPasses).toBeGreaterThan(0);
  });

  it('turning the timeout off re-registers the timed tags once without it, so that they never lapse', async () => {
    const { w, deps, advance } = await timedWorld({
      TAG_TIMEOUT_MINUTES: '60',
      AUDIT_INTERVAL_MINUTES: '15',
    });
    await auditTargets(deps);
    advance(10);
    const { tagTimeoutMinutes: _, ...persistent } = w.config.panorama;
    const panorama = new PanoramaClient(persistent);
    const off = { ...deps, panorama, tagTimeoutMinutes: undefined };
    delete off.tagTimeoutMinutes;

    const [outcome] = await auditTargets(off);
    const [second] = await auditTargets(off, { force: true });

    expect(outcome).toMatchObject({ status: 'audited', refreshed: 6, registered: 0 });
    expect(second?.refreshed).toBeUndefined();
    expect(w.panorama.model.timeouts(FW).size).toBe(0);
    advance(24 * 60);
    expect(registeredObject(w.panorama, FW)).toEqual(TAGS);
    panorama.close();
  });

  it('persistent by default: no timeout on the device, no refresh, nothing flagged', async () => {
    const { w, deps, advance, status } = await timedWorld({});
    expect(w.panorama.model.timeouts(FW).size).toBe(0);
    const [outcome] = await auditTargets(deps);
    expect(outcome?.refreshed).toBeUndefined();
    advance(24 * 60);
    expect(registeredObject(w.panorama, FW)).toEqual(TAGS);
    expect((await status()).attention).toEqual([]);
    expect(formatStatus((await status()).report)).toContain('tags: persistent');
  });
});
