import { afterEach, describe, expect, it } from 'vitest';
import type { PanoramaConfig } from '../../../shared/config/loadConfig.js';
import { PanoramaClient } from '../../../shared/panorama/PanoramaClient.js';
import {
  type PanoramaSimulator,
  startPanoramaSimulator,
} from '../../../sim/panorama/startPanoramaSimulator.js';

const FW = '007951000000001';
const MINUTE = 60_000;

let sim: PanoramaSimulator | undefined;
const clients: PanoramaClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await sim?.stop();
  sim = undefined;
});

async function world(
  config: Partial<PanoramaConfig> = {},
): Promise<{ sim: PanoramaSimulator; client: PanoramaClient }> {
  sim = await startPanoramaSimulator({ deviceGroups: { 'dg-1': [{ serial: FW, hostname: 'fw-a' }] } });
  const client = new PanoramaClient({
    url: sim.url,
    apiKey: sim.apiKey,
    chunkSize: 1000,
    concurrency: 4,
    timeoutMs: 5000,
    ...config,
  });
  clients.push(client);
  return { sim, client };
}

const web = [{ ip: '10.0.0.1', tags: ['aks.c1.web', 'aks.c1.ns.prod'] }];

describe('tag timeout (TAG_TIMEOUT_MINUTES) against the simulator', () => {
  it('without a timeout, every register is persistent: no member@timeout, and nothing ever expires', async () => {
    const { sim, client } = await world();
    await client.registerTags(web, { target: FW });
    expect(sim.calls.at(-1)?.type).toBe('user-id');
    expect(sim.model.timeouts(FW).size).toBe(0);
    sim.model.advanceClock(365 * 24 * 60 * MINUTE);
    expect(sim.registered(FW).get('10.0.0.1')).toEqual(['aks.c1.ns.prod', 'aks.c1.web']);
  });

  it('with a timeout, every registered tag carries it and lapses on the device once it has passed', async () => {
    const { sim, client } = await world({ tagTimeoutMinutes: 60 });
    await client.registerTags(web, { target: FW });
    const left = sim.model.timeouts(FW).get('10.0.0.1');
    expect([...(left?.keys() ?? [])].sort()).toEqual(['aks.c1.ns.prod', 'aks.c1.web']);
    for (const seconds of left?.values() ?? []) expect(seconds).toBeGreaterThan(3590);
    sim.model.advanceClock(59 * MINUTE);
    expect(sim.registered(FW).get('10.0.0.1')).toHaveLength(2);
    sim.model.advanceClock(2 * MINUTE);
    expect(sim.registered(FW).has('10.0.0.1')).toBe(false);
    expect(await client.listRegisteredIps({ target: FW })).toEqual(new Map());
  });

  it('a register of a tag that is there restarts its timeout (as modelled; assumed for PAN-OS)', async () => {
    const { sim, client } = await world({ tagTimeoutMinutes: 60 });
    await client.registerTags(web, { target: FW });
    sim.model.advanceClock(40 * MINUTE);
    await client.registerTags(web, { target: FW });
    sim.model.advanceClock(40 * MINUTE);
    expect(sim.registered(FW).get('10.0.0.1')).toHaveLength(2);
    sim.model.advanceClock(21 * MINUTE);
    expect(sim.registered(FW).has('10.0.0.1')).toBe(false);
  });

  it('a device that keeps the first expiry on a re-register lets the tag lapse all the same', async () => {
    const { sim, client } = await world({ tagTimeoutMinutes: 60 });
    sim.model.restartTimeoutOnRegister = false;
    await client.registerTags(web, { target: FW });
    sim.model.advanceClock(40 * MINUTE);
    await client.registerTags(web, { target: FW });
    sim.model.advanceClock(21 * MINUTE);
    expect(sim.registered(FW).has('10.0.0.1')).toBe(false);
  });

  it('a tag unregistered and registered again gets a new timeout', async () => {
    const { sim, client } = await world({ tagTimeoutMinutes: 60 });
    await client.registerTags(web, { target: FW });
    sim.model.advanceClock(50 * MINUTE);
    await client.unregisterTags([{ ip: '10.0.0.1', tags: ['aks.c1.web'] }], { target: FW });
    expect(sim.model.timeouts(FW).get('10.0.0.1')?.has('aks.c1.web')).toBe(false);
    await client.registerTags([{ ip: '10.0.0.1', tags: ['aks.c1.web'] }], { target: FW });
    sim.model.advanceClock(15 * MINUTE);
    expect(sim.registered(FW).get('10.0.0.1')).toEqual(['aks.c1.web']);
  });

  it('an explicit per-call timeout wins over TAG_TIMEOUT_MINUTES; 0 means never expire', async () => {
    const { sim, client } = await world({ tagTimeoutMinutes: 60 });
    await client.registerTags(web, { target: FW, timeoutSeconds: 0 });
    sim.model.advanceClock(120 * MINUTE);
    expect(sim.registered(FW).get('10.0.0.1')).toHaveLength(2);
  });
});
