import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { IpTagEntry } from '../../../shared/panorama/PanoramaApi.js';
import { PanoramaClient } from '../../../shared/panorama/PanoramaClient.js';
import { SharedCallLimit } from '../../../shared/panorama/SharedCallLimit.js';
import { permitPartition } from '../../../shared/state/PermitRepository.js';
import { PermitStore } from '../../../shared/state/PermitStore.js';
import {
  type PanoramaSimulator,
  startPanoramaSimulator,
} from '../../../sim/panorama/startPanoramaSimulator.js';
import { type InFlightMeter, startInFlightMeter } from '../../helpers/inFlightMeter.js';

/**
 * Two app instances (two clients, each with its own permits object and table client, as two hosts
 * would have) push to three firewalls of one Panorama at once: their calls together stay within
 * `PANORAMA_CONCURRENCY`, counted at a proxy in front of the simulator whatever their target.
 */

const FIREWALLS = ['007051000000101', '007051000000102', '007051000000103'];
const CONCURRENCY = 4;

function entries(n: number, tag: string): IpTagEntry[] {
  return Array.from({ length: n }, (_, i) => ({ ip: `10.9.${i >> 8}.${i & 255}`, tags: [tag] }));
}

describe('the Panorama call limit shared through Table Storage', { timeout: 120_000 }, () => {
  let sim: PanoramaSimulator;
  let meter: InFlightMeter;
  const table = `permits${randomUUID().replace(/-/g, '').slice(0, 12)}`;

  beforeAll(async () => {
    sim = await startPanoramaSimulator({
      deviceGroups: { 'dg-1': FIREWALLS.map((serial) => ({ serial })) },
      faults: { latencyMs: 15 },
      recordCalls: false,
    });
    meter = await startInFlightMeter(sim.url);
  });
  afterAll(async () => {
    await meter?.stop();
    await sim?.stop();
  });

  /** An app instance: its own table client and permits (another owner), or none when `shared` is false. */
  function instance(name: string, shared: boolean): PanoramaClient {
    const permits = new SharedCallLimit({
      permits: new PermitStore(
        TableClient.fromConnectionString(inject('azuriteConnectionString'), table, {
          allowInsecureConnection: true,
        }),
      ),
      partition: permitPartition(meter.url),
      limit: CONCURRENCY,
      permitMs: 30_000,
      maxWaitMs: 60_000,
      owner: name,
    });
    return new PanoramaClient(
      { url: meter.url, apiKey: sim.apiKey, chunkSize: 10, concurrency: CONCURRENCY, timeoutMs: 5000 },
      shared ? { permits } : {},
    );
  }

  /** Both instances push 200 IPs to every firewall at once (20 calls per firewall each). */
  async function pushFromTwoInstances(shared: boolean, tag: string): Promise<number> {
    const a = instance('host-a', shared);
    const b = instance('host-b', shared);
    meter.resetPeak();
    await Promise.all(
      [a, b].flatMap((c, i) =>
        FIREWALLS.map((target) => c.registerTags(entries(200, `${tag}.${i}`), { target })),
      ),
    );
    a.close();
    b.close();
    return meter.peak;
  }

  it('without it, two instances together exceed the limit; with it, never', async () => {
    const before = meter.calls;
    const unshared = await pushFromTwoInstances(false, 'aks.unshared');
    const shared = await pushFromTwoInstances(true, 'aks.shared');
    console.info(
      `two instances, 3 firewalls, PANORAMA_CONCURRENCY=${CONCURRENCY}: peak in flight ${unshared} without the shared limit, ${shared} with it`,
    );
    expect(meter.calls - before).toBe(2 * 2 * 3 * 20);
    expect(unshared).toBeGreaterThan(CONCURRENCY);
    expect(shared).toBeLessThanOrEqual(CONCURRENCY);
    for (const fw of FIREWALLS) {
      const registered = sim.registered(fw);
      expect(registered.size).toBe(200);
      expect(registered.get('10.9.0.7')).toEqual([
        'aks.shared.0',
        'aks.shared.1',
        'aks.unshared.0',
        'aks.unshared.1',
      ]);
    }
  });

  it('costs a few milliseconds per call on Azurite (permit taken and given back)', async () => {
    const permits = new SharedCallLimit({
      permits: new PermitStore(
        TableClient.fromConnectionString(inject('azuriteConnectionString'), table, {
          allowInsecureConnection: true,
        }),
      ),
      partition: 'cost-probe',
      limit: 1,
      permitMs: 30_000,
      maxWaitMs: 60_000,
      owner: 'probe',
    });
    await permits.withPermit(async () => {});
    const rounds = 50;
    const started = performance.now();
    for (let i = 0; i < rounds; i++) await permits.withPermit(async () => {});
    const perCall = (performance.now() - started) / rounds;
    // With one permit, each call waits for the previous give-back: a round is list + take + give back.
    console.info(
      `permit on Azurite: ${perCall.toFixed(1)} ms per call for its 3 storage operations (list + take before the call, give back after), ${rounds} calls in sequence`,
    );
    // One permit, calls in sequence: every call found it free again (no wait), whatever the timing.
    const rows = await new PermitStore(
      TableClient.fromConnectionString(inject('azuriteConnectionString'), table, {
        allowInsecureConnection: true,
      }),
    ).list('cost-probe');
    expect(rows).toEqual([{ index: 0, owner: '', untilMs: 0, etag: expect.any(String) }]);
  });
});
