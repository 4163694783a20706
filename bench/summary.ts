import type { BenchSection } from './BenchSection.js';

/** One target of docs/benchmarks.md with what this run measured. */
export interface SummaryRow {
  target: string;
  measured: string;
  /** The floor (best possible) or the naive counterpart the measurement is set against. */
  counterpart: string;
  /** measured / counterpart-or-bound, as the row explains. */
  ratio: string;
  holds: boolean;
}

type Figures = Record<string, number | string>;

function find(sections: readonly BenchSection[], prefix: string): Figures | undefined {
  return sections.find((s) => s.name.startsWith(prefix))?.figures;
}

const num = (f: Figures, k: string): number | undefined =>
  typeof f[k] === 'number' ? (f[k] as number) : undefined;
const fmt = (n: number, digits = 2): string => String(Math.round(n * 10 ** digits) / 10 ** digits);

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
  const pc = pipe && num(pipe, 'computeIpTagsMs10k');
  const pp = pipe && num(pipe, 'jsonParseMs10k');
  const harvest = pipe && num(pipe, 'harvestMs10k');
  const whole = pipe && num(pipe, 'unchangedRecomputeMs10k');
  if (pc !== undefined && pp !== undefined && harvest !== undefined && whole !== undefined) {
    rows.push({
      target: '  same, inside the pipeline (10k; harvest and whole recompute for information)',
      measured: `compute ${fmt(pc)} ms, harvest ${fmt(harvest, 0)} ms, unchanged recompute ${fmt(whole, 0)} ms`,
      counterpart: `JSON.parse ${fmt(pp)} ms (floor)`,
      ratio: `${fmt(pc / pp)} × / ${fmt(harvest / pp, 1)} × / ${fmt(whole / pp, 1)} ×`,
      holds: pc / pp <= 3,
    });
  }
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
      target: 'event → tags on the Panorama simulator (local host): p50 ≤ 1.5 s',
      measured: `p50 ${p50} ms, p95 ${p95} ms`,
      counterpart: `without nudge (idle polling) p50 ${poll ?? '?'} ms`,
      ratio: `${fmt(p50 / 1500)} × target`,
      holds: p50 <= 1500,
    });
  }
  const rssFirst = pipe && num(pipe, 'firstRecomputeMaxRssMB50k');
  const rssAgain = pipe && num(pipe, 'unchangedRecomputeSampledRssPeakMB50k');
  if (rssFirst !== undefined) {
    const peak = Math.max(rssFirst, rssAgain ?? 0);
    const store = pipe && num(pipe, 'memoryTableHeapMB50k');
    const base = pipe && num(pipe, 'childBaselineRssMB50k');
    rows.push({
      target: '50k Services recompute < 512 MB RSS',
      measured: `peak RSS ${fmt(peak, 1)} MB`,
      counterpart: `process baseline ${base ?? '?'} MB; in-process table ${store ?? '?'} MB included`,
      ratio: `${fmt(peak / 512)} × limit`,
      holds: peak < 512,
    });
  }
  return rows;
}

/** The summary as an aligned text table. */
export function formatSummary(rows: readonly SummaryRow[]): string {
  const header = ['target (docs/benchmarks.md)', 'measured', 'floor / naive counterpart', 'ratio', 'holds'];
  const table = [
    header,
    ...rows.map((r) => [r.target, r.measured, r.counterpart, r.ratio, r.holds ? 'yes' : 'NO']),
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
