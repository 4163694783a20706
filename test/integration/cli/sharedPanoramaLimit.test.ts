import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  baseEnv,
  type CliResult,
  describeRun,
  requireBuild,
  runCli,
  worldSecrets,
  worldSettings,
} from '../../helpers/cliKit.js';
import { type InFlightMeter, startInFlightMeter } from '../../helpers/inFlightMeter.js';
import {
  internalService,
  type PipelineWorld,
  startPipelineWorld,
  type WorldCluster,
} from '../../helpers/pipelineWorld.js';

/**
 * Two app instances — two `reconcile` processes of the compiled command line on one storage account
 * (Azurite) — push to ten firewalls of one Panorama at once and drain one delta queue together.
 * Every call to Panorama, whatever its target, passes a proxy that counts the calls in flight: with
 * the shared limit off (`PANORAMA_PERMIT_SECONDS=0`) the two together go above
 * `PANORAMA_CONCURRENCY` (default 4); with it on (the default), never.
 */

const FIREWALLS = Array.from({ length: 10 }, (_, i) => `0070510000002${String(i).padStart(2, '0')}`);
const IPS_PER_CLUSTER = 1000;
const LIMIT = 4;

function cluster(name: string, octet: number): WorldCluster {
  return {
    name,
    deviceGroups: ['dg-load'],
    services: Array.from({ length: IPS_PER_CLUSTER }, (_, i) =>
      internalService('load', `svc-${i}`, [`10.${octet}.${i >> 8}.${i & 255}`]),
    ),
  };
}

/** Aks-a and aks-b for the run without the shared limit, aks-c and aks-d for the run with it. */
const CLUSTERS = [cluster('aks-a', 31), cluster('aks-b', 32), cluster('aks-c', 33), cluster('aks-d', 34)];

interface Summary {
  pushes: { messages: number; panoramaCalls: number; poisoned: number; leftQueued: number };
  audits: { status: string }[];
}

describe('two reconcile processes share one Panorama call limit', { timeout: 300_000 }, () => {
  let world: PipelineWorld;
  let meter: InFlightMeter;
  let secrets: string[];
  let settings: Record<string, string>;

  beforeAll(async () => {
    requireBuild();
    world = await startPipelineWorld({
      clusters: CLUSTERS,
      deviceGroups: { 'dg-load': FIREWALLS.map((serial) => ({ serial })) },
    });
    world.panorama.setFaults({ latencyMs: 50 });
    meter = await startInFlightMeter(world.panorama.url);
    secrets = worldSecrets(world);
    // 1,000 IPs per message and 20 per call: 50 calls per message, one message per firewall and cluster.
    settings = { ...worldSettings(world, CLUSTERS), PANORAMA_URL: meter.url, PANORAMA_CHUNK_SIZE: '20' };
  });
  afterAll(async () => {
    await meter?.stop();
    await world?.stop();
  });

  /** Runs `reconcile --cluster <name>` for both clusters at once; the peak of calls in flight. */
  async function twoInstances(names: [string, string], extra: Record<string, string>) {
    world.panorama.resetCalls();
    meter.resetPeak();
    const env = baseEnv({ ...settings, ...extra });
    const runs = await Promise.all(
      names.map((name) =>
        runCli(['reconcile', '--cluster', name, '--json'], { env, secrets, timeoutMs: 240_000 }),
      ),
    );
    const summaries = runs.map((r: CliResult) => {
      expect(r.code, describeRun(r)).toBe(0);
      return JSON.parse(r.stdout) as Summary;
    });
    const lanes = Object.values(world.panorama.stats.maxInFlight);
    return { peak: meter.peak, perTarget: Math.max(...lanes), summaries };
  }

  it('goes above PANORAMA_CONCURRENCY without the shared limit and never with it', async () => {
    const off = await twoInstances(['aks-a', 'aks-b'], { PANORAMA_PERMIT_SECONDS: '0' });
    const on = await twoInstances(['aks-c', 'aks-d'], {});
    const describeRunOf = (r: typeof off) =>
      `peak ${r.peak} in flight (per firewall at most ${r.perTarget}); messages pushed per process: ${r.summaries.map((s) => s.pushes.messages).join(' + ')}`;
    console.info(
      `two reconcile processes, ${FIREWALLS.length} firewalls, PANORAMA_CONCURRENCY=${LIMIT}:\n  shared limit off: ${describeRunOf(off)}\n  shared limit on:  ${describeRunOf(on)}`,
    );
    expect(off.peak).toBeGreaterThan(LIMIT);
    expect(on.peak).toBeLessThanOrEqual(LIMIT);
    for (const run of [off, on]) {
      const messages = run.summaries.reduce((n, s) => n + s.pushes.messages, 0);
      expect(messages).toBe(2 * FIREWALLS.length);
      for (const s of run.summaries) {
        expect(s.pushes.poisoned + s.pushes.leftQueued).toBe(0);
        expect(s.audits.every((a) => a.status !== 'failed')).toBe(true);
      }
    }
    for (const fw of FIREWALLS) {
      const registered = world.panorama.registered(fw);
      expect(registered.size).toBe(4 * IPS_PER_CLUSTER);
      expect(registered.get('10.33.3.231')).toEqual(['aks.aks-c.svc-999']);
    }
  });
});
