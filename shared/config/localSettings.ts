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
