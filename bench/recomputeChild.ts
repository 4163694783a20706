import type { PipelineDeps } from '../shared/pipeline/PipelineDeps.js';
import { recomputeCluster } from '../shared/pipeline/recomputeCluster.js';
import { MessageQueues } from '../shared/queues/MessageQueues.js';
import { DELTA_QUEUE } from '../shared/queues/queueNames.js';
import { ClusterStateStore } from '../shared/state/ClusterStateStore.js';
import { computeIpTags } from '../shared/tags/computeIpTags.js';
import { elapsedMs } from './BenchSection.js';
import { benchDeps } from './benchRuntime.js';
import { MemoryTable } from './memoryTable.js';

/**
 * One cluster recompute in a process of its own, so that its memory is measured alone (Azurite and
 * the simulators run elsewhere): `node dist/bench/recomputeChild.js <cluster> [--breakdown]` with the
 * app settings as JSON in `BENCH_SETTINGS`. Runs the real `recomputeCluster` (Kubernetes list in
 * pages of 500 → tags → diff against the Table state → delta messages → state commit) and prints one
 * line `RESULT {json}`: duration, outcome, messages enqueued (counted at the queue client), and the
 * memory peaks (`process.memoryUsage()` sampled every 5 ms, and the kernel's maxRSS high-water mark,
 * which also sees the peaks inside synchronous work the sampler cannot interrupt).
 * With `--breakdown`, the harvest (list + decode) and `computeIpTags` are then timed on their own.
 * With `--memory-table`, the cluster state lives in an in-process {@link MemoryTable} instead of
 * Azurite (queues stay on Azurite) and the child runs the first and then an unchanged recompute.
 */

export interface RecomputeChildResult {
  cluster: string;
  status: string;
  ips: number;
  changedIps: number;
  registered: number;
  unregistered: number;
  /** Delta messages the recompute enqueued (all targets). */
  messages: number;
  /** Panorama API calls the recompute made (counted at the client). */
  panoramaCalls: number;
  targets: number;
  ms: number;
  /** Kernel high-water mark of the resident set (includes Node's baseline). */
  maxRssMB: number;
  sampledRssPeakMB: number;
  sampledHeapUsedPeakMB: number;
  /** RSS after modules were loaded, before the recompute. */
  baselineRssMB: number;
  harvestMs?: number;
  services?: number;
  computeIpTagsMs?: number;
}

/** What the child prints: one phase, or with `--memory-table` the first and the unchanged recompute. */
export interface RecomputeChildRun {
  phases: RecomputeChildResult[];
  /** Heap held by the in-process table after the first recompute (`--memory-table` only). */
  memoryTableHeapMB?: number;
}

const mib = (bytes: number) => Math.round(bytes / 1024 / 102.4) / 10;

/** Runs one recompute and measures its time, messages, Panorama calls and memory peaks. */
async function measure(
  deps: PipelineDeps,
  cluster: string,
  counters: { messages: number; panoramaCalls: number },
): Promise<RecomputeChildResult> {
  global.gc?.();
  const baseline = process.memoryUsage().rss;
  let rssPeak = baseline;
  let heapPeak = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss > rssPeak) rssPeak = m.rss;
    if (m.heapUsed > heapPeak) heapPeak = m.heapUsed;
  }, 5);
  counters.messages = 0;
  counters.panoramaCalls = 0;
  const started = process.hrtime.bigint();
  const outcome = await recomputeCluster(
    { v: 1, cluster, reason: 'bench', requestedAt: new Date().toISOString() },
    deps,
  );
  const ms = elapsedMs(started);
  clearInterval(sampler);
  const m = process.memoryUsage();
  rssPeak = Math.max(rssPeak, m.rss);
  heapPeak = Math.max(heapPeak, m.heapUsed);
  return {
    cluster,
    status: outcome.status,
    ips: outcome.ips,
    changedIps: outcome.deltas.length,
    registered: outcome.registered,
    unregistered: outcome.unregistered,
    messages: counters.messages,
    panoramaCalls: counters.panoramaCalls,
    targets: outcome.targets.length,
    ms,
    maxRssMB: Math.round(process.resourceUsage().maxRSS / 102.4) / 10,
    sampledRssPeakMB: mib(rssPeak),
    sampledHeapUsedPeakMB: mib(heapPeak),
    baselineRssMB: mib(baseline),
  };
}

async function main(): Promise<void> {
  const cluster = process.argv[2];
  const breakdown = process.argv.includes('--breakdown');
  const memoryTable = process.argv.includes('--memory-table');
  const raw = process.env.BENCH_SETTINGS;
  if (!cluster || !raw)
    throw new Error('usage: BENCH_SETTINGS={…} recomputeChild.js <cluster> [--breakdown] [--memory-table]');
  const { deps } = benchDeps(JSON.parse(raw) as Record<string, string>);
  const counters = { messages: 0, panoramaCalls: 0 };
  const send = deps.queues.send.bind(deps.queues);
  deps.queues.send = async (queue, body, options) => {
    await send(queue, body, options);
    if (queue === DELTA_QUEUE) counters.messages++;
  };
  const panorama = deps.panorama;
  deps.panorama = new Proxy(panorama, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        counters.panoramaCalls++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  let storeMB: number | undefined;
  let table: MemoryTable | undefined;
  if (memoryTable) {
    table = new MemoryTable();
    deps.clusterState = new ClusterStateStore(table.asTableClient());
  }
  // Warm the storage clients (table and queue creation) so the timing is the recompute's own.
  if (deps.clusterState instanceof ClusterStateStore) await deps.clusterState.ensureTable();
  if (deps.queues instanceof MessageQueues) await deps.queues.queue(DELTA_QUEUE);

  const phases: RecomputeChildResult[] = [];
  if (table) {
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    phases.push(await measure(deps, cluster, counters));
    global.gc?.();
    // What the in-process table holds after the first recompute (in Azure it lives in Table Storage).
    storeMB = mib(Math.max(0, process.memoryUsage().heapUsed - before));
    phases.push(await measure(deps, cluster, counters));
  } else {
    phases.push(await measure(deps, cluster, counters));
  }
  const last = phases[phases.length - 1] as RecomputeChildResult;
  if (breakdown) {
    const known = (await deps.clusters.listClusters()).find((c) => c.name === cluster);
    if (!known) throw new Error(`cluster ${cluster} not configured`);
    const harvestStarted = process.hrtime.bigint();
    const services = await deps.services.listServices(known);
    last.harvestMs = elapsedMs(harvestStarted);
    last.services = services.length;
    const computeStarted = process.hrtime.bigint();
    computeIpTags(services, { cluster: known.name, selectors: known.labelSelectors });
    last.computeIpTagsMs = elapsedMs(computeStarted);
  }
  const result: RecomputeChildRun = {
    phases,
    ...(storeMB !== undefined ? { memoryTableHeapMB: storeMB } : {}),
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `recomputeChild: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
