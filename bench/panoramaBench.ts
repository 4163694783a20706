import type { IpTagEntry } from '../shared/panorama/PanoramaApi.js';
import { PanoramaClient } from '../shared/panorama/PanoramaClient.js';
import { type PanoramaSimulator, startPanoramaSimulator } from '../sim/panorama/startPanoramaSimulator.js';
import { type BenchSection, elapsedMs } from './BenchSection.js';

const IPS = 10_000;
const TAGS_PER_IP = 6;

function workload(): IpTagEntry[] {
  return Array.from({ length: IPS }, (_, i) => ({
    ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    tags: [
      `aks.bench-cluster.svc-${i}`,
      `aks.bench-cluster.svc.app.app-${i % 50}`,
      `aks.bench-cluster.svc.tier.${i % 3 === 0 ? 'front' : 'back'}`,
      `aks.bench-cluster.svc.team.team-${i % 12}`,
      `aks.bench-cluster.svc.env.prod`,
      `aks_web.bench-cluster.svc-${i}`,
    ].slice(0, TAGS_PER_IP),
  }));
}

async function run(
  sim: PanoramaSimulator,
  entries: readonly IpTagEntry[],
  chunkSize: number,
): Promise<{ calls: number; bytes: number; ms: number; readBackCalls: number; readBackMs: number }> {
  sim.reboot();
  sim.resetCalls();
  const client = new PanoramaClient({
    url: sim.url,
    apiKey: sim.apiKey,
    chunkSize,
    concurrency: 4,
    timeoutMs: 60_000,
  });
  try {
    const started = process.hrtime.bigint();
    const result = await client.registerTags(entries);
    const ms = elapsedMs(started);
    const registered = sim.registered();
    if (result.failures.length > 0 || registered.size !== entries.length) {
      throw new Error(`bench: ${registered.size} IPs registered, ${result.failures.length} failures`);
    }
    const { calls, bytesIn: bytes } = sim.stats;
    sim.resetCalls();
    const readStarted = process.hrtime.bigint();
    const read = await client.listRegisteredIps({ tagPrefixes: ['aks.', 'aks_'] });
    const readBackMs = elapsedMs(readStarted);
    if (read.size !== entries.length) throw new Error(`bench: read back ${read.size} IPs`);
    return { calls, bytes, ms, readBackCalls: sim.stats.calls, readBackMs };
  } finally {
    client.close();
  }
}

const ratio = (a: number, b: number): number => Math.round((a / b) * 10) / 10;

/**
 * Registers 10,000 IPs × 6 tags on the Panorama simulator through `PanoramaClient` (1000 entries per
 * call, 4 concurrent calls), then the same work one IP per call as per-IP tools do (also 4 at a
 * time), and reports calls, request bytes and wall time of both with per-IP / batched ratios, plus
 * the paged read-back (audit) of the 10,000 IPs.
 */
export default async function panoramaBench(): Promise<BenchSection> {
  const sim = await startPanoramaSimulator({ recordCalls: false, duplicateMode: 'error' });
  try {
    const entries = workload();
    const batched = await run(sim, entries, 1000);
    const perIp = await run(sim, entries, 1);
    return {
      name: 'panorama: register 10,000 IPs × 6 tags',
      figures: {
        ips: IPS,
        tagsPerIp: TAGS_PER_IP,
        batchedCalls: batched.calls,
        batchedRequestBytes: batched.bytes,
        batchedMs: batched.ms,
        perIpCalls: perIp.calls,
        perIpRequestBytes: perIp.bytes,
        perIpMs: perIp.ms,
        readBackCalls: batched.readBackCalls,
        readBackMs: batched.readBackMs,
        callsRatio: ratio(perIp.calls, batched.calls),
        bytesRatio: ratio(perIp.bytes, batched.bytes),
        timeRatio: ratio(perIp.ms, batched.ms),
      },
    };
  } finally {
    await sim.stop();
  }
}
