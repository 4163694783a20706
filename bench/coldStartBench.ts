import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { BenchSection } from './BenchSection.js';
import { median, ratio } from './workload.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The `@azure/functions-core` stand-in of the package test, installed as the worker installs the real one. */
const standIn = join(repo, 'test', 'integration', 'package', 'worker', 'functionsCoreStandIn.cjs');
const RUNS = 11;

interface Variant {
  key: string;
  label: string;
  args: string[];
  cwd: string;
}

/** Wall time of one child `node` (spawn to exit) and the import time it reports on stdout. */
function timeChild(v: Variant): Promise<{ wallMs: number; importMs: number }> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, v.args, { cwd: v.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code) => {
      const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) reject(new Error(`${v.key} exited ${code}: ${err.trim().slice(0, 1000)}`));
      else resolve({ wallMs, importMs: Number(out.trim() || 0) });
    });
  });
}

/** `--input-type=module -e`: times the dynamic imports of `urls`, in order, and prints the milliseconds. */
function importScript(urls: string[]): string[] {
  const list = JSON.stringify(urls);
  return [
    '--require',
    standIn,
    '--input-type=module',
    '-e',
    `const t = performance.now(); for (const u of ${list}) await import(u); console.log(performance.now() - t);`,
  ];
}

function variants(app: string, aksChunk: string): Variant[] {
  const before = readdirSync(join(repo, 'dist', 'functions'))
    .filter((f) => f.endsWith('.js'))
    .map((f) => pathToFileURL(join(repo, 'dist', 'functions', f)).href);
  const bundle = pathToFileURL(join(app, 'app.js')).href;
  return [
    { key: 'bareNode', label: "node -e ''", args: ['-e', ''], cwd: app },
    { key: 'before', label: 'dist/functions/*.js + node_modules', args: importScript(before), cwd: repo },
    { key: 'after', label: 'package (app.js)', args: importScript([bundle]), cwd: app },
    {
      key: 'afterWithAks',
      label: 'package + AKS chunk (first recompute)',
      args: importScript([bundle, pathToFileURL(join(app, aksChunk)).href]),
      cwd: app,
    },
  ];
}

/**
 * Cold start: the import of the six functions as the worker loads them, in a fresh `node` each run
 * (median of 11, the variants interleaved): bare `node -e ''` (the floor), today's
 * `dist/functions/*.js` with the repo's node_modules (before issue #13), the package of
 * `npm run package` alone in a temp folder (after), and the package plus its lazily loaded AKS chunk
 * (what a first recompute adds). Wall = spawn to exit; import = inside the child.
 */
export default async function coldStartBench(): Promise<BenchSection> {
  const work = mkdtempSync(join(tmpdir(), 'aps-coldstart-'));
  try {
    const app = join(work, 'app');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(repo, 'scripts', 'package.mjs'), '--json', '--out', app],
      { cwd: repo },
    );
    const pkg = JSON.parse(stdout) as { bytes: number; files: { path: string; bytes: number }[] };
    const aksChunk = pkg.files.find((f) => /^chunks\/createAksAdapters-/.test(f.path))?.path ?? '';
    const vs = variants(app, aksChunk);
    const samples = new Map(vs.map((v) => [v.key, { wall: [] as number[], imp: [] as number[] }]));
    for (let i = 0; i < RUNS; i++) {
      for (const v of vs) {
        const r = await timeChild(v);
        samples.get(v.key)?.wall.push(r.wallMs);
        samples.get(v.key)?.imp.push(r.importMs);
      }
    }
    const wall = (k: string) => median(samples.get(k)?.wall ?? []);
    const imp = (k: string) => median(samples.get(k)?.imp ?? []);
    const figures: BenchSection['figures'] = { runs: RUNS, packageMiB: ratio(pkg.bytes, 1024 * 1024) };
    for (const v of vs) {
      figures[`${v.key}WallMedianMs`] = Math.round(wall(v.key));
      if (v.key !== 'bareNode') figures[`${v.key}ImportMedianMs`] = Math.round(imp(v.key));
    }
    figures.beforeToBareWallRatio = ratio(wall('before'), wall('bareNode'));
    figures.afterToBareWallRatio = ratio(wall('after'), wall('bareNode'));
    figures.beforeToAfterImportRatio = ratio(imp('before'), imp('after'), 1);
    const rows = vs.map((v) =>
      [
        v.label.padEnd(40),
        `${Math.round(wall(v.key))} ms`.padStart(9),
        v.key === 'bareNode' ? '-'.padStart(9) : `${Math.round(imp(v.key))} ms`.padStart(9),
        `${ratio(wall(v.key), wall('bareNode'))} ×`.padStart(9),
      ].join(' '),
    );
    process.stdout.write(
      `  ${`cold start (median of ${RUNS})`.padEnd(40)} ${'wall'.padStart(9)} ${'import'.padStart(9)} ${'÷ bare'.padStart(9)}\n` +
        rows.map((r) => `  ${r}\n`).join(''),
    );
    return { name: 'coldStart: import of the six functions, packaged vs dist/ vs bare node', figures };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
