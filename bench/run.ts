import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bench, BenchSection } from './BenchSection.js';
import { formatSummary, summarize } from './summary.js';

/**
 * `npm run bench`: runs every `*Bench.js` module beside this file (or those whose names start with an
 * argument: `node dist/bench/run.js pipeline latency`), prints their figures, then a summary of the
 * targets of docs/benchmarks.md (measured value, floor or naive counterpart, ratio, whether the target holds),
 * and writes everything to `bench/results/latest.json` and a dated copy `bench/results/<date>.json`
 * for comparison over time. Benchmarks print; they never fail on a timing.
 */
const here = dirname(fileURLToPath(import.meta.url));
/** Section names; `--name=value` options are read by the sections (`bench/benchOptions.ts`). */
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
/**
 * In-process sections first (their memory figures are the runner's own), then the cold start (fresh
 * `node` processes, before the heavy sections load this one), then the heavy ones.
 */
const ORDER = [
  'tagsBench.js',
  'panoramaBench.js',
  'coldStartBench.js',
  'harvestBench.js',
  'pipelineBench.js',
  'latencyBench.js',
];
const rank = (f: string) => (ORDER.includes(f) ? ORDER.indexOf(f) : ORDER.length);
const files = readdirSync(here)
  .filter((f) => f.endsWith('Bench.js'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));

const runStarted = Date.now();
const date = new Date();
const sections: (BenchSection & { durationMs: number })[] = [];
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: Bench };
  process.stdout.write(`\n== ${file.replace(/\.js$/, '')}\n`);
  const started = Date.now();
  const section = await mod.default();
  const durationMs = Date.now() - started;
  sections.push({ ...section, durationMs });
  process.stdout.write(`  (${section.name}; ${(durationMs / 1000).toFixed(1)} s)\n`);
  const width = Math.max(...Object.keys(section.figures).map((k) => k.length));
  for (const [k, v] of Object.entries(section.figures)) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
}

const summary = summarize(sections);
if (summary.length > 0)
  process.stdout.write(`\n== summary (targets of docs/benchmarks.md)\n${formatSummary(summary)}\n`);

const cpuList = cpus();
const results = {
  date: date.toISOString(),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  cpus: cpuList.length,
  cpuModel: cpuList[0]?.model ?? '',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  durationMs: Date.now() - runStarted,
  summary,
  sections,
};
const dir = join(here, '..', '..', 'bench', 'results');
mkdirSync(dir, { recursive: true });
const text = `${JSON.stringify(results, null, 2)}\n`;
const latest = join(dir, 'latest.json');
const dated = join(
  dir,
  `${date
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d{3}Z$/, 'Z')}.json`,
);
writeFileSync(latest, text);
writeFileSync(dated, text);
process.stdout.write(
  `\ntotal ${(results.durationMs / 1000).toFixed(1)} s on ${results.cpus} × ${results.cpuModel}, Node ${results.node}\n` +
    `results written to ${latest}\n             and ${dated}\n`,
);
