import { silentLogger } from '../shared/logger.js';
import type { IpTagEntry } from '../shared/panorama/PanoramaApi.js';
import { PanoramaClient } from '../shared/panorama/PanoramaClient.js';
import { drainDeltaQueue } from '../shared/pipeline/drainDeltaQueue.js';
import { DELTA_QUEUE } from '../shared/queues/queueNames.js';
import { PANORAMA_TARGET } from '../shared/state/TargetStatusStore.js';
import type { PanoramaSimulator } from '../sim/panorama/startPanoramaSimulator.js';
import { type BenchSection, elapsedMs } from './BenchSection.js';
import { benchSizes, sizeKey } from './benchOptions.js';
import { type BenchWorld, benchDeps, startBenchWorld } from './benchRuntime.js';
import type { RecomputeChildResult, RecomputeChildRun } from './recomputeChild.js';
import { runChild } from './runChild.js';
import { ratio } from './workload.js';

const DEVICE_GROUP = 'dg-bench';
const FIREWALLS = ['007951000000001', '007951000000002'];

/** Runs one recompute (with `--breakdown`) in a child process, its memory measured alone. */
async function recomputeInChild(world: BenchWorld, count: number): Promise<RecomputeChildResult> {
  const timeoutMs = count > 10_000 ? 1_800_000 : 300_000;
  const env = { BENCH_SETTINGS: JSON.stringify(world.settings) };
  const run = await runChild<RecomputeChildRun>(
    'recomputeChild.js',
    [world.cluster, '--breakdown'],
    env,
    timeoutMs,
  );
  const phase = run.phases[0];
  if (!phase) throw new Error('recompute child: no result');
  return phase;
}

/** Panorama `user-id` calls and entries per target since the last reset. */
function uidCallsPerTarget(panorama: PanoramaSimulator): Map<string, { calls: number; entries: number }> {
  const out = new Map<string, { calls: number; entries: number }>();
  for (const c of panorama.calls) {
    if (c.type !== 'user-id') continue;
    const key = c.target ?? PANORAMA_TARGET;
    const row = out.get(key) ?? { calls: 0, entries: 0 };
    row.calls++;
    row.entries += (c.register?.length ?? 0) + (c.unregister?.length ?? 0);
    out.set(key, row);
  }
  return out;
}

/** Figures shared by both recomputes: time vs the harvest floor, state time vs the state floor, memory. */
function recomputeFigures(
  figures: BenchSection['figures'],
  name: string,
  k: string,
  r: RecomputeChildResult,
): void {
  const floor = r.harvestFloorMs ?? 0;
  figures[`${name}Ms${k}`] = r.ms;
  figures[`${name}HarvestFloorMs${k}`] = floor;
  figures[`${name}ToHarvestFloorRatio${k}`] = ratio(r.ms, floor, 1);
  figures[`${name}Messages${k}`] = r.messages;
  figures[`${name}PanoramaCalls${k}`] = r.panoramaCalls;
  figures[`${name}StateWriteMs${k}`] = r.stateWriteMs;
  figures[`${name}StateWriteCalls${k}`] = r.stateWriteCalls;
  figures[`${name}StateReadMs${k}`] = r.stateReadMs;
  figures[`${name}StateReadCalls${k}`] = r.stateReadCalls;
  figures[`${name}MaxRssMB${k}`] = r.maxRssMB;
  figures[`${name}SampledRssPeakMB${k}`] = r.sampledRssPeakMB;
  figures[`${name}HeapUsedPeakMB${k}`] = r.sampledHeapUsedPeakMB;
  figures[`${name}ChildBaselineRssMB${k}`] = r.baselineRssMB;
}

function floorFigures(
  figures: BenchSection['figures'],
  k: string,
  first: RecomputeChildResult,
  again: RecomputeChildResult,
): void {
  const floor = first.stateFloor;
  if (floor) {
    figures[`stateFloorSnapshotKB${k}`] = Math.round(floor.snapshotBytes / 102.4) / 10;
    figures[`stateFloorEntities${k}`] = floor.entities;
    figures[`stateFloorEncodeMs${k}`] = floor.encodeMs;
    figures[`stateFloorWriteMs${k}`] = floor.writeMs;
    figures[`stateFloorReadMs${k}`] = floor.readMs;
    figures[`stateFloorDecodeMs${k}`] = floor.decodeMs;
    figures[`firstStateWriteToFloorRatio${k}`] = ratio(first.stateWriteMs, floor.writeMs, 1);
    figures[`firstStateReadToFloorRatio${k}`] = ratio(first.stateReadMs, floor.readMs, 1);
    figures[`unchangedStateReadToFloorRatio${k}`] = ratio(again.stateReadMs, floor.readMs, 1);
  }
  figures[`harvestMs${k}`] = again.harvestMs ?? -1;
  figures[`harvestToFloorRatio${k}`] = ratio(again.harvestMs ?? 0, again.harvestFloorMs ?? 0);
  figures[`computeIpTagsMs${k}`] = again.computeIpTagsMs ?? -1;
  figures[`computeIpTagsToHarvestFloorRatio${k}`] = ratio(
    again.computeIpTagsMs ?? 0,
    again.harvestFloorMs ?? 0,
  );
}

/** The same entries as the drain pushed, registered by a bare `PanoramaClient` on both firewalls at once. */
async function bareClientPushMs(world: BenchWorld, pushed: Map<string, IpTagEntry[]>): Promise<number> {
  const { config } = benchDeps(world.settings);
  for (const serial of pushed.keys()) world.panorama.reboot(serial);
  const client = new PanoramaClient(config.panorama, { logger: silentLogger });
  try {
    const started = process.hrtime.bigint();
    const results = await Promise.all(
      [...pushed].map(([target, entries]) => client.registerTags(entries, { target })),
    );
    const ms = elapsedMs(started);
    if (results.some((r) => r.failures.length > 0)) throw new Error('bare client push: failures');
    return ms;
  } finally {
    client.close();
  }
}

async function pushFigures(
  world: BenchWorld,
  figures: BenchSection['figures'],
  k: string,
  ips: number,
): Promise<void> {
  const { deps } = benchDeps(world.settings);
  const queued = await deps.queues.depth(DELTA_QUEUE);
  world.panorama.resetCalls();
  const started = process.hrtime.bigint();
  const drained = await drainDeltaQueue(deps, {
    maxDequeueCount: 5,
    retryDelaySeconds: 0,
    budgetMs: 600_000,
  });
  const pushMs = elapsedMs(started);
  const perTarget = uidCallsPerTarget(world.panorama);
  const pushed = new Map<string, IpTagEntry[]>();
  for (const serial of FIREWALLS) {
    const got = world.panorama.registered(serial);
    if (got.size !== ips) throw new Error(`push: ${serial} holds ${got.size} of ${ips} IPs`);
    pushed.set(
      serial,
      [...got].map(([ip, tags]) => ({ ip, tags })),
    );
  }
  const calls = Math.max(...[...perTarget.values()].map((r) => r.calls));
  const entries = Math.max(...[...perTarget.values()].map((r) => r.entries));
  const bound = Math.ceil(entries / 1000) + 1;
  const totalEntries = [...pushed.values()].reduce((n, e) => n + e.length, 0);
  const bareMs = await bareClientPushMs(world, pushed);
  Object.assign(figures, {
    [`pushMessages${k}`]: queued,
    [`pushMessagesPushed${k}`]: drained.pushed.length,
    [`pushRetried${k}`]: drained.retried,
    [`pushPoisoned${k}`]: drained.poisoned,
    [`pushTargets${k}`]: perTarget.size,
    [`pushEntriesPerTarget${k}`]: entries,
    [`pushCallsPerTarget${k}`]: calls,
    [`pushCallsBoundPerTarget${k}`]: bound,
    [`pushCallsToBoundRatio${k}`]: ratio(calls, bound),
    [`pushNaivePerIpCallsPerTarget${k}`]: entries,
    [`pushNaiveToPipelineCallsRatio${k}`]: ratio(entries, calls, 1),
    [`pushMs${k}`]: pushMs,
    [`pushUsPerEntry${k}`]: ratio(pushMs * 1000, totalEntries, 1),
    [`bareClientPushMs${k}`]: bareMs,
    [`bareClientUsPerEntry${k}`]: ratio(bareMs * 1000, totalEntries, 1),
    [`pushToBareClientRatio${k}`]: ratio(pushMs, bareMs, 1),
  });
}

/**
 * One size through the real pipeline: `recomputeCluster` for `count` internal Services × 5 labels
 * served by the Kubernetes simulator, tags for a device group of two firewalls (two targets), state
 * and queues on Azurite. The first recompute (every IP new) runs in a child process, the initial
 * deltas are drained to the Panorama simulator (then pushed again by a bare client for the floor),
 * and an unchanged recompute runs in a second child; each child also measures its floors.
 */
async function sized(count: number, figures: BenchSection['figures']): Promise<void> {
  const k = sizeKey(count);
  const world = await startBenchWorld({
    cluster: `aks-bench-${k}`,
    services: count,
    deviceGroup: DEVICE_GROUP,
    firewalls: FIREWALLS,
    recordCalls: true,
  });
  try {
    figures[`services${k}`] = count;
    figures[`stateStore${k}`] = 'Azurite';
    world.panorama.resetCalls();
    const first = await recomputeInChild(world, count);
    if (first.status !== 'changed') throw new Error(`first recompute: ${first.status}`);
    figures[`ips${k}`] = first.ips;
    recomputeFigures(figures, 'firstRecompute', k, first);
    figures[`firstRecomputeTargets${k}`] = first.targets;
    await pushFigures(world, figures, k, first.ips);

    world.panorama.resetCalls();
    const again = await recomputeInChild(world, count);
    if (again.status !== 'unchanged') throw new Error(`unchanged recompute: ${again.status}`);
    recomputeFigures(figures, 'unchangedRecompute', k, again);
    floorFigures(figures, k, first, again);
    figures[`unchangedRecomputeSimulatorCalls${k}`] = world.panorama.stats.calls;
    figures[`deltaQueueDepthAfterUnchanged${k}`] = await benchDeps(world.settings).deps.queues.depth(
      DELTA_QUEUE,
    );
  } finally {
    await world.stop();
  }
}

/**
 * Recompute (first and unchanged), initial push and memory through the real pipeline on Azurite,
 * for each size of `--sizes` (default 10,000 and 50,000; `--sizes=10000` for the smaller alone).
 */
export default async function pipelineBench(): Promise<BenchSection> {
  const figures: BenchSection['figures'] = {};
  for (const count of benchSizes([10_000, 50_000])) {
    try {
      await sized(count, figures);
    } catch (err) {
      // One size failing (a 50k child killed at its timeout, say) is reported; the others still run.
      figures[`error${sizeKey(count)}`] =
        String(err instanceof Error ? err.message : err).split('\n')[0] ?? '';
    }
  }
  return { name: 'pipeline: recompute on Azurite + simulators, initial push', figures };
}
