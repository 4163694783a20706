import { spawn } from 'node:child_process';
import https from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drainDeltaQueue } from '../shared/pipeline/drainDeltaQueue.js';
import { DELTA_QUEUE } from '../shared/queues/queueNames.js';
import { PANORAMA_TARGET } from '../shared/state/TargetStatusStore.js';
import type { KubernetesSimulator } from '../sim/kubernetes/startKubernetesSimulator.js';
import type { PanoramaSimulator } from '../sim/panorama/startPanoramaSimulator.js';
import { type BenchSection, elapsedMs } from './BenchSection.js';
import { type BenchWorld, benchDeps, startBenchWorld } from './benchRuntime.js';
import type { RecomputeChildResult, RecomputeChildRun } from './recomputeChild.js';
import { median, ratio } from './workload.js';

const here = dirname(fileURLToPath(import.meta.url));
const DEVICE_GROUP = 'dg-bench';
const FIREWALLS = ['007951000000001', '007951000000002'];
const CHILD_TIMEOUT_MS = 240_000;

/** The whole ServiceList in one unpaged GET (the text the floor parses). */
function fetchListText(kube: KubernetesSimulator): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      `${kube.url}/api/v1/services`,
      {
        headers: { authorization: `Bearer ${kube.token}`, accept: 'application/json' },
        ...(kube.caData ? { ca: Buffer.from(kube.caData, 'base64').toString('utf8') } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(Buffer.concat(chunks).toString('utf8'))
            : reject(new Error(`list answered ${res.statusCode}`)),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(120_000, () => req.destroy(new Error('list timed out')));
  });
}

/** Median time of `JSON.parse` of `text` over `runs` runs. */
function parseFloorMs(text: string, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const parsed = JSON.parse(text) as { items: unknown[] };
    times.push(elapsedMs(start));
    if (parsed.items.length === 0) throw new Error('empty list');
  }
  return median(times);
}

/** Runs one recompute in a child process (its memory measured alone); resolves with its result line. */
function recomputeInChild(
  settings: Record<string, string>,
  cluster: string,
  flags: readonly ('--breakdown' | '--memory-table')[],
): Promise<RecomputeChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', join(here, 'recomputeChild.js'), cluster, ...flags],
      {
        env: { ...process.env, BENCH_SETTINGS: JSON.stringify(settings) },
        stdio: ['ignore', 'pipe', process.env.BENCH_DEBUG ? 'inherit' : 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice('RESULT '.length)) as RecomputeChildRun);
      else reject(new Error(`recompute child exited ${signal ?? code}: ${err.trim().slice(0, 2000)}`));
    });
  });
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

function firstFigures(
  figures: BenchSection['figures'],
  k: string,
  count: number,
  parseMs: number,
  first: RecomputeChildResult,
): void {
  if (first.status !== 'changed') throw new Error(`first recompute: ${first.status}`);
  figures[`services${k}`] = count;
  figures[`ips${k}`] = first.ips;
  figures[`firstRecomputeMs${k}`] = first.ms;
  figures[`firstRecomputeToParseRatio${k}`] = ratio(first.ms, parseMs, 1);
  figures[`firstRecomputeMessages${k}`] = first.messages;
  figures[`firstRecomputeTargets${k}`] = first.targets;
  figures[`firstRecomputePanoramaCalls${k}`] = first.panoramaCalls;
  figures[`firstRecomputeMaxRssMB${k}`] = first.maxRssMB;
  figures[`firstRecomputeSampledRssPeakMB${k}`] = first.sampledRssPeakMB;
  figures[`firstRecomputeHeapUsedPeakMB${k}`] = first.sampledHeapUsedPeakMB;
  figures[`childBaselineRssMB${k}`] = first.baselineRssMB;
}

function unchangedFigures(
  figures: BenchSection['figures'],
  k: string,
  parseMs: number,
  again: RecomputeChildResult,
): void {
  if (again.status !== 'unchanged') throw new Error(`unchanged recompute: ${again.status}`);
  figures[`unchangedRecomputeMs${k}`] = again.ms;
  figures[`unchangedRecomputeToParseRatio${k}`] = ratio(again.ms, parseMs, 1);
  figures[`unchangedRecomputeMessages${k}`] = again.messages;
  figures[`unchangedRecomputePanoramaCalls${k}`] = again.panoramaCalls;
  figures[`unchangedRecomputeSampledRssPeakMB${k}`] = again.sampledRssPeakMB;
  figures[`harvestMs${k}`] = again.harvestMs ?? -1;
  figures[`harvestToParseRatio${k}`] = ratio(again.harvestMs ?? 0, parseMs, 1);
  figures[`computeIpTagsMs${k}`] = again.computeIpTagsMs ?? -1;
  figures[`computeIpTagsToParseRatio${k}`] = ratio(again.computeIpTagsMs ?? 0, parseMs);
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
    budgetMs: 180_000,
  });
  const pushMs = elapsedMs(started);
  const perTarget = uidCallsPerTarget(world.panorama);
  for (const serial of FIREWALLS) {
    const got = world.panorama.registered(serial).size;
    if (got !== ips) throw new Error(`push: ${serial} holds ${got} of ${ips} IPs`);
  }
  const calls = Math.max(...[...perTarget.values()].map((r) => r.calls));
  const entries = Math.max(...[...perTarget.values()].map((r) => r.entries));
  const bound = Math.ceil(entries / 1000) + 1;
  figures[`pushMessages${k}`] = queued;
  figures[`pushMessagesPushed${k}`] = drained.pushed.length;
  figures[`pushRetried${k}`] = drained.retried;
  figures[`pushPoisoned${k}`] = drained.poisoned;
  figures[`pushTargets${k}`] = perTarget.size;
  figures[`pushEntriesPerTarget${k}`] = entries;
  figures[`pushCallsPerTarget${k}`] = calls;
  figures[`pushCallsBoundPerTarget${k}`] = bound;
  figures[`pushCallsToBoundRatio${k}`] = ratio(calls, bound);
  figures[`pushNaivePerIpCallsPerTarget${k}`] = entries;
  figures[`pushNaiveToPipelineCallsRatio${k}`] = ratio(entries, calls, 1);
  figures[`pushPanoramaCallsTotal${k}`] = world.panorama.stats.calls;
  figures[`pushMs${k}`] = pushMs;
}

/**
 * The targets of docs/benchmarks.md through the real pipeline: `recomputeCluster` for `count` internal Services × 5 labels
 * served by the Kubernetes simulator (pages of 500), tags for a device group of two firewalls (two
 * targets), queues on Azurite. The first recompute (every IP new) and an unchanged one run in child
 * processes (memory measured alone); the floor is `JSON.parse` of the same ServiceList text.
 * - `azurite` state: each recompute in its own child; with `push`, the initial deltas are drained from
 *   `tag-deltas` to the Panorama simulator in between.
 * - `memory` state ({@link MemoryTable}, for 50,000): both recomputes in one child.
 */
async function sized(
  count: number,
  mode: { state: 'azurite' | 'memory'; push: boolean },
  figures: BenchSection['figures'],
): Promise<void> {
  const k = `${count / 1000}k`;
  const world = await startBenchWorld({
    cluster: `aks-bench-${count / 1000}k`,
    services: count,
    deviceGroup: DEVICE_GROUP,
    firewalls: FIREWALLS,
    recordCalls: true,
  });
  try {
    const text = await fetchListText(world.kube);
    const parseMs = parseFloorMs(text, count > 10_000 ? 3 : 5);
    figures[`listMB${k}`] = Math.round(Buffer.byteLength(text) / 1024 / 102.4) / 10;
    figures[`jsonParseMs${k}`] = parseMs;
    figures[`stateStore${k}`] = mode.state === 'azurite' ? 'Azurite' : 'in-process MemoryTable';

    if (mode.state === 'memory') {
      world.panorama.resetCalls();
      const run = await recomputeInChild(world.settings, world.cluster, ['--memory-table', '--breakdown']);
      const [first, again] = run.phases;
      if (!first || !again) throw new Error('memory-table child: two phases expected');
      firstFigures(figures, k, count, parseMs, first);
      unchangedFigures(figures, k, parseMs, again);
      figures[`memoryTableHeapMB${k}`] = run.memoryTableHeapMB ?? -1;
      figures[`simulatorPanoramaCallsBothRecomputes${k}`] = world.panorama.stats.calls;
      return;
    }

    world.panorama.resetCalls();
    const first = (await recomputeInChild(world.settings, world.cluster, [])).phases[0];
    if (!first) throw new Error('child: no result');
    firstFigures(figures, k, count, parseMs, first);
    if (mode.push) await pushFigures(world, figures, k, first.ips);

    world.panorama.resetCalls();
    const again = (await recomputeInChild(world.settings, world.cluster, ['--breakdown'])).phases[0];
    if (!again) throw new Error('child: no result');
    unchangedFigures(figures, k, parseMs, again);
    figures[`unchangedRecomputeSimulatorCalls${k}`] = world.panorama.stats.calls;
    figures[`deltaQueueDepthAfterUnchanged${k}`] = await benchDeps(world.settings).deps.queues.depth(
      DELTA_QUEUE,
    );
  } finally {
    await world.stop();
  }
}

/** Recompute (initial and unchanged), initial push and memory through the real pipeline. */
export default async function pipelineBench(): Promise<BenchSection> {
  const figures: BenchSection['figures'] = {};
  await sized(10_000, { state: 'azurite', push: true }, figures);
  await sized(50_000, { state: 'memory', push: false }, figures);
  return { name: 'pipeline: recompute on Azurite + simulators, initial push', figures };
}
