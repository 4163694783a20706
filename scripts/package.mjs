#!/usr/bin/env node
// `npm run package`: builds the folder `azd deploy` zips and uploads (azure.yaml `services.api.dist`).
// One ESM bundle (`app.js`) registers the six functions; code only some paths need (the AKS side:
// ARM, the Kubernetes client) is a chunk loaded by dynamic import. Production code only: no
// node_modules, no devDependency, no scripts for a remote build to run. See docs/deploy.md.
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The artifact folder, relative to the repository (azure.yaml `services.api.dist`). */
export const PACKAGE_DIR = 'dist/package';

/**
 * Size budget of the artifact, in bytes (sum of its files, uncompressed). docs/deploy.md gives the
 * measured size; the package test (test/integration/package/package.test.ts) fails past it.
 */
export const PACKAGE_BUDGET_BYTES = 3.5 * 1024 * 1024;

/** Provided by the Functions Node.js worker at run time, through `require` (never bundled). */
const HOST_PROVIDED = ['@azure/functions-core'];

// The worker hands `@azure/functions-core` to `Module.prototype.require` only, and bundled CommonJS
// packages call `require`: give every ESM chunk a real CommonJS `require`.
const banner =
  "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);";

function functionFiles() {
  return readdirSync(join(root, 'functions'))
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((f) => `./functions/${f}`);
}

/** A virtual entry importing every `functions/*.ts`, so one file registers them all. */
function appEntry(files) {
  return {
    name: 'app-entry',
    setup(b) {
      b.onResolve({ filter: /^app-entry$/ }, () => ({ path: 'app-entry', namespace: 'app-entry' }));
      b.onLoad({ filter: /.*/, namespace: 'app-entry' }, () => ({
        contents: files.map((f) => `import '${f}';`).join('\n'),
        resolveDir: root,
        loader: 'js',
      }));
    },
  };
}

function packageJson() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  return {
    name: pkg.name,
    version: pkg.version,
    description: pkg.description,
    license: pkg.license,
    private: true,
    type: 'module',
    main: 'app.js',
    engines: pkg.engines,
  };
}

function listFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** Empties `dir` for a new build, refusing a folder that is not (yet) a package: `--out` never deletes work. */
function clearOutDir(dir) {
  if (!existsSync(dir)) return;
  const entries = readdirSync(dir);
  if (entries.length > 0 && !(entries.includes('app.js') && entries.includes('host.json'))) {
    throw new Error(`${dir} is not empty and holds no earlier package (app.js, host.json); not replacing it`);
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Builds the artifact into `outDir` and returns what it holds. */
export async function buildPackage(outDir = join(root, PACKAGE_DIR)) {
  clearOutDir(outDir);
  const files = functionFiles();
  const result = await build({
    entryPoints: [{ in: 'app-entry', out: 'app' }],
    plugins: [appEntry(files)],
    absWorkingDir: root,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir: outDir,
    chunkNames: 'chunks/[name]-[hash]',
    external: HOST_PROVIDED,
    banner: { js: banner },
    minify: true,
    keepNames: true,
    legalComments: 'eof',
    metafile: true,
    logLevel: 'warning',
  });
  writeFileSync(join(outDir, 'package.json'), `${JSON.stringify(packageJson(), null, 2)}\n`);
  writeFileSync(join(outDir, 'host.json'), readFileSync(join(root, 'host.json')));
  const entries = listFiles(outDir).map((f) => ({
    path: relative(outDir, f),
    bytes: statSync(f).size,
    deflatedBytes: deflateRawSync(readFileSync(f)).length,
  }));
  const bytes = entries.reduce((n, e) => n + e.bytes, 0);
  const deflatedBytes = entries.reduce((n, e) => n + e.deflatedBytes, 0);
  return {
    dir: outDir,
    functions: files,
    files: entries,
    bytes,
    deflatedBytes,
    budgetBytes: PACKAGE_BUDGET_BYTES,
    metafile: result.metafile,
  };
}

const mb = (n) => `${(n / 1024 / 1024).toFixed(2)} MiB`;

async function main(argv) {
  const outArg = argv.indexOf('--out');
  if (outArg > 0 && !argv[outArg + 1]) {
    console.error('package: --out needs a folder (e.g. --out /tmp/aks-panorama-sync-package)');
    return 2;
  }
  let pkg;
  try {
    pkg = await buildPackage(outArg > 0 ? resolve(argv[outArg + 1]) : undefined);
  } catch (error) {
    console.error(
      `package: ${error instanceof Error && !('errors' in error) ? error.message : 'the build failed (esbuild errors above)'}`,
    );
    return 1;
  }
  if (argv.includes('--json')) {
    const { metafile: _m, ...summary } = pkg;
    process.stdout.write(`${JSON.stringify({ packageDir: PACKAGE_DIR, ...summary })}\n`);
    return 0;
  }
  for (const f of pkg.files) console.log(`  ${f.path.padEnd(40)} ${mb(f.bytes).padStart(9)}`);
  console.log(
    `package: ${relative(process.cwd(), pkg.dir) || '.'} — ${pkg.files.length} files, ${mb(pkg.bytes)} ` +
      `(about ${mb(pkg.deflatedBytes)} zipped), ${pkg.functions.length} functions; budget ${mb(pkg.budgetBytes)}`,
  );
  if (pkg.bytes > pkg.budgetBytes) {
    console.error(
      `package: warning: ${mb(pkg.bytes)} is over the budget of ${mb(pkg.budgetBytes)} ` +
        '(scripts/package.mjs; the package test fails on it)',
    );
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  process.exitCode = await main(process.argv);
}
