import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bench, BenchSection } from './BenchSection.js';

/**
 * `npm run bench`: runs every `*Bench.js` module beside this file (or those named on the command
 * line), prints their figures and writes them to `bench/results/latest.json` for comparison over time.
 */
const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('Bench.js'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();

const sections: BenchSection[] = [];
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: Bench };
  process.stdout.write(`\n== ${file.replace(/\.js$/, '')}\n`);
  const section = await mod.default();
  sections.push(section);
  const width = Math.max(...Object.keys(section.figures).map((k) => k.length));
  for (const [k, v] of Object.entries(section.figures)) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
}

const out = join(here, '..', '..', 'bench', 'results', 'latest.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, sections }, null, 2)}\n`,
);
process.stdout.write(`\nresults written to ${out}\n`);
