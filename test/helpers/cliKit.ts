import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { nodeResourceGroup, type PipelineWorld, SUBSCRIPTION, type WorldCluster } from './pipelineWorld.js';

/** Repository root. */
export const ROOT = join(import.meta.dirname, '..', '..');

/** The compiled command line, as `npm install -g` / `npx` would run it. */
export const CLI = join(ROOT, 'dist', 'bin', 'aks-panorama-sync.js');

/** Throws a clear message when `dist/` was not built (`npm test` builds before vitest). */
export function requireBuild(): void {
  if (!existsSync(CLI) || !existsSync(join(ROOT, 'dist', 'functions', 'status.js'))) {
    throw new Error(`${CLI} is missing: run "npx tsc -p tsconfig.json" (npm test does) before these tests`);
  }
}

/**
 * A minimal process environment with none of the app's settings: only what a shell user always has.
 * Tests add exactly the settings they mean, so a developer's own PANORAMA_URL never leaks in.
 */
export function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SystemRoot']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

/** What one CLI run produced. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCli}. */
export interface RunCliOptions {
  /** Full environment of the child (use {@link baseEnv}). */
  env: Record<string, string>;
  /** Working directory (default: a fresh empty temp directory, so no local.settings.json is read). */
  cwd?: string;
  /** Text for stdin (default: none, stdin closed). */
  stdin?: string;
  /** Values that must never appear in stdout or stderr (API keys, tokens, passwords). */
  secrets?: readonly (string | undefined)[];
  /** Kill the child after this long (default 120 s): a hung CLI fails the test instead of vitest. */
  timeoutMs?: number;
}

let emptyDir: string | undefined;

/** An empty directory shared by runs that need no local.settings.json. */
function emptyCwd(): string {
  emptyDir ??= mkdtempSync(join(tmpdir(), 'aps-cli-empty-'));
  return emptyDir;
}

/** Asserts that no secret occurs in any of `texts` (and says which stream leaked, not the secret). */
export function expectNoSecrets(
  texts: Record<string, string>,
  secrets: readonly (string | undefined)[],
): void {
  for (const secret of secrets) {
    if (!secret) continue;
    for (const [name, text] of Object.entries(texts)) {
      expect(text.includes(secret), `a secret (${secret.length} chars) appeared in ${name}`).toBe(false);
    }
  }
}

/**
 * Runs `node dist/bin/aks-panorama-sync.js …args` as a user would and collects its output. Every run
 * also asserts that none of `secrets` was printed.
 */
export function runCli(args: readonly string[], options: RunCliOptions): Promise<CliResult> {
  requireBuild();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? emptyCwd(),
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.stdin.end(options.stdin ?? '');
    const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      const result = { code, signal, stdout, stderr };
      try {
        expectNoSecrets({ stdout, stderr }, options.secrets ?? []);
      } catch (err) {
        reject(err);
        return;
      }
      resolve(result);
    });
  });
}

/** A readable failure message for an unexpected exit code. */
export function describeRun(r: CliResult): string {
  return `exit ${r.code} (signal ${r.signal})\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** A stack trace line as Node prints them (`    at fn (file:line:col)`). */
export const STACK_LINE = /^\s+at .+(\(|:\d+:\d+)/m;

/** A temporary working directory, optionally with a `local.settings.json` holding `values`. */
export function tempCwd(values?: Record<string, unknown> | string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'aps-cli-cwd-'));
  if (values !== undefined) {
    writeFileSync(
      join(dir, 'local.settings.json'),
      typeof values === 'string' ? values : JSON.stringify({ IsEncrypted: false, Values: values }, null, 2),
    );
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** True while a process with `pid` exists (signal 0 probes without touching it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Polls `probe` until it is truthy, or throws after `timeoutMs` naming `what`. */
export async function pollUntil<T>(
  what: string,
  probe: () => T | Promise<T>,
  { timeoutMs = 30_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<Exclude<T, undefined | false | null>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false && value !== null)
      return value as Exclude<T, undefined | false | null>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Resolves with the exit of `child`, or undefined after `timeoutMs`. */
export function exitWithin(
  child: ChildProcess,
  timeoutMs: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

/**
 * The app settings that point the command line at a pipeline world's Azurite and simulators, as an
 * operator would export them (clusters with token auth against the Kubernetes simulators).
 */
export function worldSettings(
  world: PipelineWorld,
  clusters: readonly WorldCluster[],
): Record<string, string> {
  return {
    AzureWebJobsStorage: world.azurite.connectionString,
    PANORAMA_URL: world.panorama.url,
    PANORAMA_API_KEY: world.panorama.apiKey,
    PANORAMA_TIMEOUT_MS: '5000',
    CLUSTERS: JSON.stringify(
      clusters.map((c) => {
        const sim = world.kube.get(c.name);
        if (!sim) throw new Error(`no Kubernetes simulator for ${c.name}`);
        return {
          name: c.name,
          subscriptionId: SUBSCRIPTION,
          resourceGroup: `rg-${c.name}`,
          nodeResourceGroup: nodeResourceGroup(c.name),
          server: sim.url,
          caData: sim.caData,
          auth: { type: 'token', token: sim.token },
          labelSelectors: c.labelSelectors ?? [],
          deviceGroups: c.deviceGroups ?? [],
        };
      }),
    ),
  };
}

/** Every secret of a world: the Panorama API key and password, and each cluster's bearer token. */
export function worldSecrets(world: PipelineWorld): string[] {
  return [world.panorama.apiKey, world.panorama.password, ...[...world.kube.values()].map((k) => k.token)];
}

/**
 * Every `width`-character piece of `secret`: error messages that quote a few characters of their
 * input (V8's JSON errors quote about ten) must not show any of them either.
 */
export function secretFragments(secret: string, width = 8): string[] {
  const out = new Set<string>();
  for (let i = 0; i + width <= secret.length; i++) out.add(secret.slice(i, i + width));
  return [...out];
}

/** A running `aks-panorama-sync dev` child and what it has printed so far. */
export interface DevProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Both streams, for assertion messages. */
  output(): string;
}

/**
 * Starts the compiled `dev` (the local host, `--port 0`) in `cwd` and records its pid in `leftovers`
 * so the caller's `afterAll` can kill whatever is still running.
 */
export function startDev(
  cwd: string,
  leftovers: number[],
  env: Record<string, string> = baseEnv(),
): DevProcess {
  requireBuild();
  const child = spawn(process.execPath, [CLI, 'dev', '--port', '0'], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid) leftovers.push(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    output: () => `--- dev stdout\n${stdout}\n--- dev stderr\n${stderr}`,
  };
}
