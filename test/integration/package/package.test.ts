import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { type FunctionSpec, isFunctionSpec, STORAGE_CONNECTION } from '../../../shared/functionSpecs.js';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../../..');

/** What `node scripts/package.mjs --json` prints. */
interface PackageSummary {
  /** The folder `npm run package` writes without `--out` (azure.yaml `dist`). */
  packageDir: string;
  dir: string;
  functions: string[];
  files: { path: string; bytes: number }[];
  bytes: number;
  deflatedBytes: number;
  budgetBytes: number;
}

/** What `worker/runPackagedApp.mjs` prints. */
interface AppRun {
  main: string;
  loaded: string[];
  programmingModel: { name: string; version: string } | null;
  registered: { name: string; bindings: Record<string, Record<string, unknown>> }[];
  resolvable: Record<string, string | null>;
  invoked?: { name: string; result?: unknown; error?: string; lines: string[] };
  cjsModules: string[];
  resolutions: string[];
}

let work: string;
let pkg: PackageSummary;
let app: string;
let runs = 0;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'aps-package-'));
  const { stdout } = await run(
    process.execPath,
    ['scripts/package.mjs', '--json', '--out', join(work, 'built')],
    {
      cwd: repo,
    },
  );
  pkg = JSON.parse(stdout) as PackageSummary;
  app = join(work, 'app');
  cpSync(pkg.dir, app, { recursive: true });
  cpSync(join(import.meta.dirname, 'worker'), join(work, 'worker'), { recursive: true });
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Loads the unpacked app in a child `node` (cwd = the app, a clean environment) as the worker does. */
async function runApp(args: string[] = [], env: Record<string, string> = {}): Promise<AppRun> {
  const resolutions = join(work, `resolutions-${++runs}.txt`);
  const { stdout } = await run(
    process.execPath,
    ['--require', '../worker/functionsCoreStandIn.cjs', '../worker/runPackagedApp.mjs', ...args],
    { cwd: app, env: { PATH: process.env.PATH ?? '', PACKAGE_TEST_RESOLUTIONS: resolutions, ...env } },
  );
  const lines = existsSync(resolutions) ? readFileSync(resolutions, 'utf8').split('\n').filter(Boolean) : [];
  return { ...(JSON.parse(stdout) as Omit<AppRun, 'resolutions'>), resolutions: lines };
}

/** The trigger (and return) bindings the repo's own spec registers through `@azure/functions`. */
function expectedBindings(spec: FunctionSpec): Record<string, unknown>[] {
  switch (spec.kind) {
    case 'queue':
      return [
        { type: 'queueTrigger', direction: 'in', queueName: spec.queueName, connection: STORAGE_CONNECTION },
      ];
    case 'timer':
      return [
        {
          type: 'timerTrigger',
          direction: 'in',
          schedule: spec.schedule,
          ...(spec.runOnStartup === undefined ? {} : { runOnStartup: spec.runOnStartup }),
        },
      ];
    case 'eventGrid':
      return [{ type: 'eventGridTrigger', direction: 'in' }];
    case 'http':
      return [
        {
          type: 'httpTrigger',
          direction: 'in',
          route: spec.route,
          methods: spec.methods,
          authLevel: spec.authLevel,
        },
        { type: 'http', direction: 'out' },
      ];
  }
}

/** The bindings without their generated names and the SDK's deferred-binding flag. */
function comparable(bindings: Record<string, Record<string, unknown>>): Record<string, unknown>[] {
  return Object.values(bindings).map(({ name: _n, properties: _p, ...rest }) => rest);
}

/** The specs `functions/*.ts` export (imported here, outside the host: `@azure/functions` warns it only records). */
async function repoSpecs(): Promise<FunctionSpec[]> {
  const files = readdirSync(join(repo, 'functions')).filter((f) => f.endsWith('.ts'));
  const quiet = vi.spyOn(console, 'warn').mockImplementation(() => {});
  try {
    const modules = await Promise.all(
      files.map((f) => import(pathToFileURL(join(repo, 'functions', f)).href)),
    );
    return modules.flatMap((m) => Object.values(m as Record<string, unknown>).filter(isFunctionSpec));
  } finally {
    quiet.mockRestore();
  }
}

const aksChunk = /\/chunks\/createAksAdapters-[^/]+\.js$/;

describe('the deployment package (npm run package), unpacked and loaded on its own', () => {
  it('holds production code only, within the size budget', () => {
    const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ type: 'module', main: 'app.js', private: true });
    for (const key of ['dependencies', 'devDependencies', 'scripts'])
      expect(manifest).not.toHaveProperty(key);
    expect(readFileSync(join(app, 'host.json'), 'utf8')).toBe(readFileSync(join(repo, 'host.json'), 'utf8'));
    const paths = pkg.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['app.js', 'host.json', 'package.json']));
    expect(paths.filter((p) => !/^(app\.js|host\.json|package\.json|chunks\/[\w-]+\.js)$/.test(p))).toEqual(
      [],
    );
    expect(paths.some((p) => aksChunk.test(`/${p}`))).toBe(true);
    expect(pkg.bytes).toBe(pkg.files.reduce((n, f) => n + f.bytes, 0));
    expect(pkg.bytes, `package is ${pkg.bytes} bytes; the budget is ${pkg.budgetBytes}`).toBeLessThanOrEqual(
      pkg.budgetBytes,
    );
  });

  it('is what azd deploys: azure.yaml zips this folder as it is, after `npm run package`', () => {
    const azureYaml = readFileSync(join(repo, 'azure.yaml'), 'utf8');
    expect(azureYaml).toMatch(new RegExp(`^ {4}dist: ${pkg.packageDir}$`, 'm'));
    expect(azureYaml).toMatch(/^ {4}remoteBuild: false$/m);
    expect(azureYaml).toMatch(/^ {4}hooks:\n {6}prepackage:\n(?: {8}.*\n)*? {10}run: npm run package$/m);
    // azd refuses `remoteBuild: false` when the project's .funcignore excludes node_modules.
    const ignored = readFileSync(join(repo, '.funcignore'), 'utf8').split('\n');
    expect(ignored.filter((l) => /^\/?node_modules\/?$/.test(l.trim()))).toEqual([]);
  });

  it('registers the six functions with the bindings of the repo, resolving nothing outside the folder', async () => {
    const result = await runApp();
    expect(result.loaded).toEqual(['app.js']);
    expect(result.programmingModel?.name).toBe('@azure/functions');
    const specs = await repoSpecs();
    expect(specs.map((s) => s.name).sort()).toEqual(
      [
        'onResourceEvent',
        'pushTagDeltas',
        'recomputeCluster',
        'reconcileTimer',
        'replayPoison',
        'status',
      ].sort(),
    );
    expect(result.registered.map((r) => r.name).sort()).toEqual(specs.map((s) => s.name).sort());
    for (const spec of specs) {
      const registered = result.registered.find((r) => r.name === spec.name);
      expect(comparable(registered?.bindings ?? {}), spec.name).toEqual(expectedBindings(spec));
    }
    expect(result.resolvable).toEqual({ '@azure/functions': null, '@azure/arm-containerservice': null });
    const appUrl = `${pathToFileURL(app).href}/`;
    expect(result.resolutions.filter((u) => !u.startsWith('node:') && !u.startsWith(appUrl))).toEqual([]);
    expect(result.cjsModules).toEqual([join(work, 'worker', 'functionsCoreStandIn.cjs')]);
    expect(pkg.files.filter((f) => aksChunk.test(`/${f.path}`))).toHaveLength(1);
    expect(
      result.resolutions.filter((u) => aksChunk.test(u)),
      'ARM and Kubernetes load on first use',
    ).toEqual([]);
  });

  it('runs a function from the folder alone: an event loads the AKS chunk and enqueues a recompute', async () => {
    const cluster = `pkg-${process.pid}`;
    const subject = `/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-pkg/providers/Microsoft.ContainerService/managedClusters/${cluster}`;
    const event = {
      id: `package-test-${cluster}`,
      topic: '/subscriptions/00000000-0000-0000-0000-000000000001',
      subject,
      eventType: 'Microsoft.Resources.ResourceWriteSuccess',
      eventTime: new Date().toISOString(),
      data: { resourceUri: subject, operationName: 'Microsoft.ContainerService/managedClusters/write' },
      dataVersion: '2',
      metadataVersion: '1',
    };
    const result = await runApp(['onResourceEvent', JSON.stringify(event)], {
      AzureWebJobsStorage: inject('azuriteConnectionString'),
      PANORAMA_URL: 'https://panorama.example.test',
      PANORAMA_API_KEY: 'package-test-key',
      CLUSTERS: JSON.stringify([
        {
          name: cluster,
          subscriptionId: '00000000-0000-0000-0000-000000000001',
          resourceGroup: 'rg-pkg',
          nodeResourceGroup: `MC_rg-pkg_${cluster}`,
        },
      ]),
    });
    expect(result.invoked?.error).toBeUndefined();
    expect(result.invoked?.lines.join('\n')).toContain('event: recompute requested');
    expect(result.invoked?.lines.join('\n')).toContain(cluster);
    expect(result.resolutions.filter((u) => aksChunk.test(u))).toHaveLength(1);
    expect(result.cjsModules).toEqual([join(work, 'worker', 'functionsCoreStandIn.cjs')]);
  });
});
