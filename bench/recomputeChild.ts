import { DEFAULT_PAGE_SIZE } from '../shared/kubernetes/KubernetesServiceSource.js';
import type { PipelineDeps } from '../shared/pipeline/PipelineDeps.js';
import { recomputeCluster } from '../shared/pipeline/recomputeCluster.js';
import { MessageQueues } from '../shared/queues/MessageQueues.js';
import { DELTA_QUEUE } from '../shared/queues/queueNames.js';
import type { ClusterStateRepository } from '../shared/state/ClusterStateRepository.js';
import { computeIpTags } from '../shared/tags/computeIpTags.js';
import { elapsedMs } from './BenchSection.js';
import { benchDeps } from './benchRuntime.js';
import { harvestFloor } from './harvestFloor.js';
import { type StateFloor, stateFloor } from './stateFloor.js';
import { median } from './workload.js';

/**
 * One cluster recompute in a process of its own, so that its memory is measured alone (Azurite and
 * the simulators run elsewhere): `node dist/bench/recomputeChild.js <cluster> [--breakdown]` with the
 * app settings as JSON in `BENCH_SETTINGS`. Runs the real `recomputeCluster` (Kubernetes list in
 * pages of 500 → tags → diff against the Table state → delta messages → state commit) and prints one
 * line `RESULT {json}`: duration, outcome, messages enqueued (counted at the queue client), and the
 * memory peaks (`process.memoryUsage()` sampled every 5 ms, and the kernel's maxRSS high-water mark,
 * which also sees the peaks inside synchronous work the sampler cannot interrupt).
 * The state (Azurite) is timed at the `ClusterStateRepository` interface: the time spent in its
 * `read…`/`getHead` and `write…`/`createHead`/`replaceHead` calls during the recompute.
 * With `--breakdown`, then in the same process: the harvest floor (bare GET + `JSON.parse` of the
 * same pages, `bench/harvestFloor.ts`), the harvest (list + decode) and `computeIpTags` on their
 * own, and the state floor (a bare Table write/read of the same `{ip → tags}` map, gzip'd JSON,
 * `bench/stateFloor.ts`).
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
  /** Time in, and calls of, the state repository's reads and writes during the recompute. */
  stateReadMs: number;
  stateReadCalls: number;
  stateWriteMs: number;
  stateWriteCalls: number;
  harvestFloorMs?: number;
  harvestMs?: number;
  services?: number;
  computeIpTagsMs?: number;
  stateFloor?: StateFloor;
}

/** What the child prints. */
export interface RecomputeChildRun {
  phases: RecomputeChildResult[];
}

interface Counters {
  messages: number;
  panoramaCalls: number;
  read: { ms: number; calls: number };
  write: { ms: number; calls: number };
}

/** The repository with the time of its reads and writes added to `counters`. */
function timedState(state: ClusterStateRepository, counters: Counters): ClusterStateRepository {
  return new Proxy(state, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== 'function') return value;
      if (typeof prop !== 'string') return (value as (...a: unknown[]) => unknown).bind(target);
      const kind = /^(read|getHead|listHeads)/.test(prop)
        ? counters.read
        : /^(write|createHead|replaceHead|prune)/.test(prop)
          ? counters.write
          : undefined;
      if (!kind) return (value as (...a: unknown[]) => unknown).bind(target);
      return async (...args: unknown[]) => {
        const started = process.hrtime.bigint();
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          kind.ms += elapsedMs(started);
          kind.calls++;
        }
      };
    },
  });
}

const mib = (bytes: number) => Math.round(bytes / 1024 / 102.4) / 10;

/** Runs one recompute and measures its time, messages, Panorama calls and memory peaks. */
async function measure(
  deps: PipelineDeps,
  cluster: string,
  counters: Counters,
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
  counters.read = { ms: 0, calls: 0 };
  counters.write = { ms: 0, calls: 0 };
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
    stateReadMs: Math.round(counters.read.ms * 100) / 100,
    stateReadCalls: counters.read.calls,
    stateWriteMs: Math.round(counters.write.ms * 100) / 100,
    stateWriteCalls: counters.write.calls,
  };
}

/** The breakdown of `--breakdown` (see the file's comment), added to `last`. */
async function breakdown(
  deps: PipelineDeps,
  cluster: string,
  settings: Record<string, string>,
  last: RecomputeChildResult,
): Promise<void> {
  const known = (await deps.clusters.listClusters()).find((c) => c.name === cluster);
  if (!known?.server || known.auth.type !== 'token')
    throw new Error(`cluster ${cluster}: a token cluster with a server expected`);
  const target = { url: known.server, token: known.auth.token, caData: known.caData };
  const floors: number[] = [];
  for (let i = 0; i < 3; i++) floors.push((await harvestFloor(target, DEFAULT_PAGE_SIZE)).ms);
  last.harvestFloorMs = median(floors);
  const harvestStarted = process.hrtime.bigint();
  const services = await deps.services.listServices(known);
  last.harvestMs = elapsedMs(harvestStarted);
  last.services = services.length;
  const computeStarted = process.hrtime.bigint();
  const { tags } = computeIpTags(services, { cluster: known.name, selectors: known.labelSelectors });
  last.computeIpTagsMs = elapsedMs(computeStarted);
  last.stateFloor = await stateFloor(settings.AzureWebJobsStorage ?? '', tags);
}

async function main(): Promise<void> {
  const cluster = process.argv[2];
  const raw = process.env.BENCH_SETTINGS;
  if (!cluster || !raw)
    throw new Error('usage: BENCH_SETTINGS={…} recomputeChild.js <cluster> [--breakdown]');
  const settings = JSON.parse(raw) as Record<string, string>;
  const { deps } = benchDeps(settings);
  const counters: Counters = {
    messages: 0,
    panoramaCalls: 0,
    read: { ms: 0, calls: 0 },
    write: { ms: 0, calls: 0 },
  };
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
  // Warm the storage clients (table and queue creation) so the timing is the recompute's own.
  await deps.clusterState.listHeads();
  if (deps.queues instanceof MessageQueues) await deps.queues.queue(DELTA_QUEUE);
  deps.clusterState = timedState(deps.clusterState, counters);

  const last = await measure(deps, cluster, counters);
  if (process.argv.includes('--breakdown')) await breakdown(deps, cluster, settings, last);
  process.stdout.write(`RESULT ${JSON.stringify({ phases: [last] } satisfies RecomputeChildRun)}\n`);
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
