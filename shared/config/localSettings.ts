import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';

/** Environment-like map of settings. */
export type Settings = Record<string, string | undefined>;

/**
 * Reads the `Values` of `local.settings.json` in `dir`, as Azure Functions Core Tools do.
 * Returns `{}` when the file is absent; throws {@link ConfigError} when it is not valid JSON.
 */
export function readLocalSettings(dir: string = process.cwd()): Settings {
  const file = join(dir, 'local.settings.json');
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError([`local.settings.json: not valid JSON (${jsonSyntaxReason(err)})`]);
  }
  const values = (parsed as { Values?: unknown } | null)?.Values;
  if (values === undefined) return {};
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new ConfigError(['local.settings.json: "Values" must be an object of strings']);
  }
  const out: Settings = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === null || v === undefined) continue;
    out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

/**
 * The reason a `JSON.parse` of settings failed, without the input text that V8 quotes in some of
 * its messages (`Unexpected token ']', ..."<10 chars of input>"... is not valid JSON`): settings
 * hold API keys and tokens, and the reason is printed.
 */
export function jsonSyntaxReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (!/ is not valid JSON$/.test(message)) return message;
  const token = /^(Unexpected token '[\s\S]{1,2}?'),/.exec(message);
  return token?.[1] ?? 'not JSON';
}

/** The effective settings: `local.settings.json` Values overlaid by the environment (environment wins). */
export function effectiveSettings(env: Settings = process.env, dir: string = process.cwd()): Settings {
  const local = readLocalSettings(dir);
  const out: Settings = { ...local };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** The file `dev` writes in its working directory while the demo runs (mode 0600, removed on exit). */
export const DEMO_SETTINGS_FILE = '.aks-panorama-sync-demo.json';

/** The settings that make a configuration: without any of them `dev` runs the demo. */
const CONFIGURING_KEYS = ['PANORAMA_URL', 'CLUSTERS', 'DISCOVERY_TAG'] as const;

/** Whether `settings` configure the service (PANORAMA_URL, CLUSTERS or DISCOVERY_TAG is set). */
export function isConfigured(settings: Settings): boolean {
  return CONFIGURING_KEYS.some((k) => settings[k]);
}

/** What the running demo wrote in {@link DEMO_SETTINGS_FILE}. */
export interface DemoSettingsFile {
  /** The `dev` process that wrote it. */
  pid: number;
  /** The local Functions host, e.g. `http://127.0.0.1:7071`. */
  hostUrl: string;
  /** The key of its HTTP functions (`?code=`). */
  functionKey: string;
  /** App settings reaching the demo's Azurite and simulators (demo-only credentials). */
  Values: Settings;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The demo file of `dir` when the `dev` that wrote it still runs; `stale` names a file left by a
 * process that is gone (killed without cleaning up). Throws {@link ConfigError} when it is not valid.
 */
export function readDemoSettings(dir: string): { demo?: DemoSettingsFile; stale?: string } {
  const file = join(dir, DEMO_SETTINGS_FILE);
  if (!existsSync(file)) return {};
  let parsed: DemoSettingsFile;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as DemoSettingsFile;
  } catch (err) {
    throw new ConfigError([`${DEMO_SETTINGS_FILE}: not valid JSON (${jsonSyntaxReason(err)})`]);
  }
  if (!Number.isInteger(parsed?.pid) || typeof parsed.Values !== 'object' || parsed.Values === null)
    throw new ConfigError([`${DEMO_SETTINGS_FILE}: not a demo settings file (no "pid" and "Values")`]);
  if (!isAlive(parsed.pid))
    return {
      stale: `${DEMO_SETTINGS_FILE} was left by a demo (pid ${parsed.pid}) that is no longer running`,
    };
  return { demo: parsed };
}

/**
 * The settings of a CLI command: {@link effectiveSettings} (environment over `local.settings.json`)
 * and, when they do not configure the service ({@link isConfigured}), the running demo's
 * {@link DEMO_SETTINGS_FILE} under them. `note` says on which file the command runs, or why the
 * demo file was ignored.
 */
export function cliSettings(env: Settings, dir: string): { settings: Settings; note?: string } {
  const settings = effectiveSettings(env, dir);
  const { demo, stale } = readDemoSettings(dir);
  if (isConfigured(settings))
    return demo
      ? {
          settings,
          note: `not using the running demo (pid ${demo.pid}, ${DEMO_SETTINGS_FILE}): the environment or local.settings.json configures the app (PANORAMA_URL, CLUSTERS or DISCOVERY_TAG)`,
        }
      : { settings };
  if (!demo) return { settings, ...(stale ? { note: `${stale}; ignoring it` } : {}) };
  return {
    settings: { ...demo.Values, ...settings },
    note: `using the running demo (pid ${demo.pid}, ${DEMO_SETTINGS_FILE})`,
  };
}
