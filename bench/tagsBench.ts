import { diffIpTags } from '../shared/diff/diffIpTags.js';
import type { KubeService } from '../shared/kubernetes/KubeService.js';
import { parseLabelSelector } from '../shared/selectors/parseLabelSelector.js';
import { computeIpTags } from '../shared/tags/computeIpTags.js';
import { type BenchSection, elapsedMs } from './BenchSection.js';
import { median, serviceListText } from './workload.js';

const CLUSTER = 'aks-bench-1';
const ITERATIONS = 7;

const SELECTORS = [
  ['web', 'app in (app-1,app-2,app-3),tier=front'],
  ['front', 'tier=front'],
  ['stable', '!canary'],
].map(([name, source]) => ({
  name: name as string,
  source: source as string,
  selector: parseLabelSelector(source as string),
}));

function time<T>(fn: () => T): [T, number] {
  const start = process.hrtime.bigint();
  const out = fn();
  return [out, elapsedMs(start)];
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 102.4) / 10;

async function tenThousand(figures: BenchSection['figures']): Promise<void> {
  const text = serviceListText(10_000);
  const parseTimes: number[] = [];
  const computeTimes: number[] = [];
  const warmTimes: number[] = [];
  let items: KubeService[] = [];
  let result = computeIpTags([], { cluster: CLUSTER, selectors: SELECTORS });
  for (let i = 0; i < ITERATIONS; i++) {
    const [parsed, parseMs] = time(() => JSON.parse(text) as { items: KubeService[] });
    items = parsed.items;
    const [r, computeMs] = time(() => computeIpTags(items, { cluster: CLUSTER, selectors: SELECTORS }));
    result = r;
    parseTimes.push(parseMs);
    computeTimes.push(computeMs);
    warmTimes.push(time(() => computeIpTags(items, { cluster: CLUSTER, selectors: SELECTORS }))[1]);
  }
  const again = computeIpTags(items, { cluster: CLUSTER, selectors: SELECTORS });
  const [deltas, diffMs] = time(() => diffIpTags(result.tags, again.tags));
  let pairs = 0;
  for (const tags of result.tags.values()) pairs += tags.length;
  figures.services10k = items.length;
  figures.jsonMB10k = mb(Buffer.byteLength(text));
  figures.ips10k = result.tags.size;
  figures.ipTagPairs10k = pairs;
  figures.issues10k = result.issues.length;
  figures.jsonParseMedianMs10k = median(parseTimes);
  figures.computeIpTagsMedianMs10k = median(computeTimes);
  figures.computeToParseRatio10k = Math.round((median(computeTimes) / median(parseTimes)) * 100) / 100;
  figures.computeIpTagsAgainMedianMs10k = median(warmTimes);
  figures.computeAgainToParseRatio10k = Math.round((median(warmTimes) / median(parseTimes)) * 100) / 100;
  figures.unchangedRecomputeDeltas10k = deltas.length;
  figures.unchangedDiffMs10k = diffMs;
}

async function fiftyThousand(figures: BenchSection['figures']): Promise<void> {
  const text = serviceListText(50_000);
  const [parsed, parseMs] = time(() => JSON.parse(text) as { items: KubeService[] });
  const before = process.memoryUsage();
  const [result, computeMs] = time(() =>
    computeIpTags(parsed.items, { cluster: CLUSTER, selectors: SELECTORS }),
  );
  const again = computeIpTags(parsed.items, { cluster: CLUSTER, selectors: SELECTORS });
  const [deltas, diffMs] = time(() => diffIpTags(result.tags, again.tags));
  const after = process.memoryUsage();
  figures.services50k = parsed.items.length;
  figures.jsonMB50k = mb(Buffer.byteLength(text));
  figures.ips50k = result.tags.size;
  figures.jsonParseMs50k = parseMs;
  figures.computeIpTagsMs50k = computeMs;
  figures.unchangedRecomputeDeltas50k = deltas.length;
  figures.unchangedDiffMs50k = diffMs;
  figures.rssMB50k = mb(after.rss);
  figures.heapUsedMB50k = mb(after.heapUsed);
  figures.heapUsedByTwoComputesAndDiffMB50k = mb(after.heapUsed - before.heapUsed);
}

/**
 * Target of docs/benchmarks.md: `computeIpTags` for 10,000 internal Services × 5 labels against `JSON.parse` of the
 * same List (compact JSON, as the API server sends it; medians of several runs), the unchanged
 * recompute (0 deltas), and 50,000 Services with the process memory while text, objects and
 * two results are all held. `computeIpTags…` runs right after the parse and so also pays the
 * garbage collector for promoting the freshly parsed objects; `…Again…` is a second run on the
 * same objects.
 */
export default async function tagsBench(): Promise<BenchSection> {
  const figures: BenchSection['figures'] = {};
  await tenThousand(figures);
  await fiftyThousand(figures);
  return { name: 'tags: computeIpTags vs JSON.parse', figures };
}
