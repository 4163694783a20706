// Loads a packaged app as the Functions Node.js worker does (Azure/azure-functions-nodejs-worker
// `src/startApp.ts`, `src/loadScriptFile.ts`): the files `main` of ./package.json names, by dynamic
// import when `type` is `module`. Run with `--require functionsCoreStandIn.cjs`, cwd = the app.
// argv[2]/argv[3]: optionally a function to invoke and its trigger input (JSON). Prints one JSON line.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

register('./resolveHook.mjs', import.meta.url);

/** `main` as a path or a `dir/*.js`-style pattern (the only glob form this stand-in expands). */
function entryFiles(main) {
  if (!main.includes('*')) return [main];
  const dir = dirname(main);
  const re = new RegExp(
    `^${main
      .slice(dir.length + 1)
      .replace(/[.]/g, '\\.')
      .replace(/\*/g, '[^/]*')}$`,
  );
  return readdirSync(dir)
    .filter((f) => re.test(f))
    .sort()
    .map((f) => join(dir, f));
}

function resolvableFromApp(name) {
  try {
    return createRequire(resolve('package.json')).resolve(name);
  } catch {
    return null;
  }
}

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const loaded = [];
for (const file of entryFiles(pkg.main)) {
  await import(pathToFileURL(resolve(file)).href);
  loaded.push(file);
}
const { registrations, coreApi } = globalThis.__functionsCore;
const out = {
  main: pkg.main,
  loaded,
  programmingModel: coreApi.programmingModel
    ? { name: coreApi.programmingModel.name, version: coreApi.programmingModel.version }
    : null,
  registered: registrations.map((r) => ({ name: r.metadata.name, bindings: r.metadata.bindings })),
  resolvable: Object.fromEntries(
    ['@azure/functions', '@azure/arm-containerservice'].map((n) => [n, resolvableFromApp(n)]),
  ),
};
const [name, input] = process.argv.slice(2);
if (name) {
  const lines = [];
  const log =
    (level) =>
    (...args) =>
      lines.push(`${level} ${args.join(' ')}`);
  const context = {
    invocationId: 'package-test',
    functionName: name,
    log: log('info'),
    trace: log('trace'),
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
  };
  const callback = registrations.find((r) => r.metadata.name === name)?.callback;
  try {
    out.invoked = { name, result: (await callback(JSON.parse(input ?? 'null'), context)) ?? null, lines };
  } catch (error) {
    out.invoked = { name, error: String(error), lines };
  }
}
out.cjsModules = Object.keys(createRequire(import.meta.url).cache);
process.stdout.write(`${JSON.stringify(out)}\n`);
