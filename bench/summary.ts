import { DEFAULT_PAGE_SIZE } from '../shared/kubernetes/KubernetesServiceSource.js';
import type { BenchSection } from './BenchSection.js';

/** One target of docs/benchmarks.md with what this run measured. */
export interface SummaryRow {
  target: string;
  measured: string;
  /** The floor (best possible) or the naive counterpart the measurement is set against. */
  counterpart: string;
  /** measured / counterpart-or-bound, as the row explains. */
  ratio: string;
  /** Whether the target holds; undefined for rows shown for information (no target). */
  holds: boolean | undefined;
}

/** Issue #12's latency target (tighter than the 1.5 s of the first design). */
const LATENCY_TARGET_P50_MS = 300;

type Figures = Record<string, number | string>;

function find(sections: readonly BenchSection[], prefix: string): Figures | undefined {
  return sections.find((s) => s.name.startsWith(prefix))?.figures;
}

const num = (f: Figures, k: string): number | undefined =>
  typeof f[k] === 'number' ? (f[k] as number) : undefined;
const fmt = (n: number, digits = 2): string => String(Math.round(n * 10 ** digits) / 10 ** digits);

/** Harvest vs GET + `JSON.parse` of the same pages, per size, at the default page size; client-node beside it. */
function harvestRows(f: Figures): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const k of ['10k', '50k']) {
    const lean = num(f, `harvestMs${k}@${DEFAULT_PAGE_SIZE}`);
    const floor = num(f, `floorMs${k}@${DEFAULT_PAGE_SIZE}`);
    const old = num(f, `clientNodeHarvestMs${k}@500`);
    if (lean === undefined || floor === undefined) continue;
    rows.push({
      target: `harvest (${k}, pages of ${DEFAULT_PAGE_SIZE}) ≤ 2 × GET + JSON.parse of the same pages`,
      measured: `${fmt(lean, 0)} ms (client-node at 500: ${old === undefined ? '?' : fmt(old, 0)} ms)`,
      counterpart: `${fmt(floor, 0)} ms (floor)`,
      ratio: `${fmt(lean / floor)} × (client-node ${old === undefined ? '?' : fmt(old / floor)} ×)`,
      holds: lean / floor <= 2,
    });
  }
  return rows;
}

/** First and unchanged recomputes vs the harvest floor, state vs a bare Table write/read, push vs the bare client, RSS. */
function pipelineRows(f: Figures): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const [k, firstLimit] of [
    ['10k', 8],
    ['50k', 10],
  ] as const) {
    for (const [name, label, limit] of [
      ['firstRecompute', 'first sync', firstLimit],
      ['unchangedRecompute', 'unchanged recompute', 3],
    ] as const) {
      const ms = num(f, `${name}Ms${k}`);
      const floor = num(f, `${name}HarvestFloorMs${k}`);
      if (ms === undefined || floor === undefined) continue;
      rows.push({
        target: `${k} ${label} on Azurite ≤ ${limit} × the harvest floor`,
        measured: `${fmt(ms, 0)} ms`,
        counterpart: `GET + JSON.parse ${fmt(floor, 0)} ms (floor)`,
        ratio: `${fmt(ms / floor, 1)} × (≤ ${limit})`,
        holds: ms / floor <= limit,
      });
    }
    const write = num(f, `firstRecomputeStateWriteMs${k}`);
    const read = num(f, `unchangedRecomputeStateReadMs${k}`);
    const floorWrite = num(f, `stateFloorWriteMs${k}`);
    const floorRead = num(f, `stateFloorReadMs${k}`);
    if (write !== undefined && read !== undefined && floorWrite !== undefined && floorRead !== undefined) {
      rows.push({
        target: `  ${k} state write (first sync) / read (unchanged), for information`,
        measured: `${fmt(write, 0)} ms / ${fmt(read, 0)} ms`,
        counterpart: `bare Table write ${fmt(floorWrite, 0)} ms / read ${fmt(floorRead, 0)} ms (${num(f, `stateFloorSnapshotKB${k}`) ?? '?'} KB gzip'd)`,
        ratio: `${fmt(write / floorWrite, 1)} × / ${fmt(read / floorRead, 1)} ×`,
        holds: undefined,
      });
    }
    const push = num(f, `pushUsPerEntry${k}`);
    const bare = num(f, `bareClientUsPerEntry${k}`);
    if (push !== undefined && bare !== undefined) {
      rows.push({
        target: `  ${k} push per entry (queue → Panorama), for information`,
        measured: `${fmt(push, 1)} µs`,
        counterpart: `bare PanoramaClient ${fmt(bare, 1)} µs`,
        ratio: `${fmt(push / bare, 1)} ×`,
        holds: undefined,
      });
    }
  }
  const rss = num(f, 'firstRecomputeMaxRssMB50k');
  if (rss !== undefined) {
    const peak = Math.max(rss, num(f, 'unchangedRecomputeMaxRssMB50k') ?? 0);
    rows.push({
      target: '50k Services recompute on Azurite < 512 MB RSS',
      measured: `peak RSS ${fmt(peak, 1)} MB`,
      counterpart: `process baseline ${num(f, 'firstRecomputeChildBaselineRssMB50k') ?? '?'} MB`,
      ratio: `${fmt(peak / 512)} × limit`,
      holds: peak < 512,
    });
  }
  return rows;
}

/**
 * Maps the figures of a run to the targets of docs/benchmarks.md. Rows whose sections did not run are left
 * out. Benchmarks never fail on a target: `holds` is reported, not asserted.
 */
export function summarize(sections: readonly BenchSection[]): SummaryRow[] {
  const rows: SummaryRow[] = [];
  const tags = find(sections, 'tags:');
  const pipe = find(sections, 'pipeline:');
  const lat = find(sections, 'latency:');

  const compute = tags && num(tags, 'computeIpTagsMedianMs10k');
  const parse = tags && num(tags, 'jsonParseMedianMs10k');
  if (compute !== undefined && parse !== undefined) {
    rows.push({
      target: '10k Services × 5 labels: tag computation ≤ 3 × JSON.parse',
      measured: `computeIpTags ${fmt(compute)} ms`,
      counterpart: `JSON.parse ${fmt(parse)} ms (floor)`,
      ratio: `${fmt(compute / parse)} × (≤ 3)`,
      holds: compute / parse <= 3,
    });
  }
  if (pipe) rows.push(...pipelineRows(pipe));
  const harvest = find(sections, 'harvest:');
  if (harvest) rows.push(...harvestRows(harvest));
  for (const k of ['10k', '50k']) {
    const messages = pipe && num(pipe, `unchangedRecomputeMessages${k}`);
    const calls = pipe && num(pipe, `unchangedRecomputePanoramaCalls${k}`);
    const firstMessages = pipe && num(pipe, `firstRecomputeMessages${k}`);
    if (messages === undefined || calls === undefined) continue;
    rows.push({
      target: `unchanged recompute (${k}) = 0 Panorama calls, 0 messages`,
      measured: `${calls} calls, ${messages} messages`,
      counterpart: `first recompute: ${firstMessages ?? '?'} messages`,
      ratio: '-',
      holds: messages === 0 && calls === 0,
    });
  }
  const pushCalls = pipe && num(pipe, 'pushCallsPerTarget10k');
  const bound = pipe && num(pipe, 'pushCallsBoundPerTarget10k');
  const naive = pipe && num(pipe, 'pushNaivePerIpCallsPerTarget10k');
  if (pushCalls !== undefined && bound !== undefined && naive !== undefined) {
    rows.push({
      target: 'initial push of 10k IPs: ≤ ⌈entries/1000⌉ + 1 Panorama calls per target',
      measured: `${pushCalls} calls per target`,
      counterpart: `bound ${bound}; naive per-IP ${naive}`,
      ratio: `${fmt(pushCalls / bound)} × bound; naive ${fmt(naive / pushCalls, 1)} × more`,
      holds: pushCalls <= bound,
    });
  }
  const direct = find(sections, 'panorama:');
  const dCalls = direct && num(direct, 'batchedCalls');
  const dPerIp = direct && num(direct, 'perIpCalls');
  if (dCalls !== undefined && dPerIp !== undefined && direct) {
    const ips = num(direct, 'ips') ?? dPerIp;
    const b = Math.ceil(ips / 1000) + 1;
    rows.push({
      target: '  same, PanoramaClient alone (one registerTags of all 10k IPs)',
      measured: `${dCalls} calls`,
      counterpart: `bound ${b}; naive per-IP ${dPerIp}`,
      ratio: `${fmt(dCalls / b)} × bound; naive ${fmt(dPerIp / dCalls, 1)} × more`,
      holds: dCalls <= b,
    });
  }
  const p50 = lat && num(lat, 'p50Ms');
  const p95 = lat && num(lat, 'p95Ms');
  const poll = lat && num(lat, 'withoutNudgeP50Ms');
  if (p50 !== undefined && p95 !== undefined) {
    rows.push({
      target: 'event → tags on two firewalls (local host): p50 ≤ 300 ms',
      measured: `p50 ${p50} ms, p95 ${p95} ms`,
      counterpart: `without nudge (idle polling) p50 ${poll ?? '?'} ms`,
      ratio: `${fmt(p50 / LATENCY_TARGET_P50_MS)} × target`,
      holds: p50 <= LATENCY_TARGET_P50_MS,
    });
  }
  const cold = find(sections, 'coldStart');
  const before = cold && num(cold, 'beforeWallMedianMs');
  const after = cold && num(cold, 'afterWallMedianMs');
  const bare = cold && num(cold, 'bareNodeWallMedianMs');
  if (before !== undefined && after !== undefined && bare !== undefined && cold) {
    rows.push({
      target: '  cold start: import of the six functions, packaged, for information',
      measured: `${after} ms (${num(cold, 'packageMiB') ?? '?'} MiB)`,
      counterpart: `node -e '' ${bare} ms; dist/ + node_modules ${before} ms`,
      ratio: `${fmt(after / bare)} × bare; ${fmt(before / after)} × faster`,
      holds: undefined,
    });
  }
  return rows;
}

/** The summary as an aligned text table. */
export function formatSummary(rows: readonly SummaryRow[]): string {
  const header = ['target (docs/benchmarks.md)', 'measured', 'floor / naive counterpart', 'ratio', 'holds'];
  const table = [
    header,
    ...rows.map((r) => [
      r.target,
      r.measured,
      r.counterpart,
      r.ratio,
      r.holds === undefined ? '-' : r.holds ? 'yes' : 'NO',
    ]),
  ];
  const widths = header.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
  return table
    .map((row, n) => {
      const line = row
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd();
      return n === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}
