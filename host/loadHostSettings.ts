import { existsSync, readFileSync } from 'node:fs';
import { ConfigError } from '../shared/errors.js';

/** How the queue trigger decodes message text (`extensions.queues.messageEncoding`). */
export type MessageEncoding = 'base64' | 'none';

/** The `extensions.queues` settings of host.json, with every default filled in. */
export interface QueueHostSettings {
  /** Messages received per poll (1–32). Host default 16. */
  batchSize: number;
  /** A new batch is fetched once in-flight messages drop to this count. Host default `floor(batchSize / 2) * N`. */
  newBatchThreshold: number;
  /** Upper bound of the idle polling backoff. Host default 1 min, 2 s in Development. */
  maxPollingIntervalMs: number;
  /** Delay before a failed message becomes visible again. Host default 0. */
  visibilityTimeoutMs: number;
  /** Attempts (including the first) before a message moves to `<queue>-poison`. Host default 5. */
  maxDequeueCount: number;
  /** Host default `base64`. */
  messageEncoding: MessageEncoding;
}

/** The host.json settings the local host honours. */
export interface HostSettings {
  /** `functionTimeout`; an invocation running longer counts as failed. */
  functionTimeoutMs: number;
  queues: QueueHostSettings;
}

/** Options of {@link loadHostSettings}. */
export interface LoadHostSettingsOptions {
  /**
   * Apply the Development defaults the host uses under `func start` (a 2 s maximum polling interval
   * when host.json sets none). Default `true`: the local host is a development host.
   */
  development?: boolean;
  /** The `N` (vCPU count) of the host's `newBatchThreshold` default. Default 1, as on Consumption/Flex. */
  processorCount?: number;
}

/** The minimum polling interval of the queue listener (`QueuePollingIntervals.Minimum`). */
export const MIN_POLLING_INTERVAL_MS = 100;
/** The queue listener's `maxPollingInterval` default (`QueuePollingIntervals.DefaultMaximum`). */
export const DEFAULT_MAX_POLLING_INTERVAL_MS = 60_000;
/** `maxPollingInterval` when running in Development and host.json sets none. */
export const DEVELOPMENT_MAX_POLLING_INTERVAL_MS = 2_000;
/** `functionTimeout` default on Flex Consumption and dedicated plans. */
export const DEFAULT_FUNCTION_TIMEOUT_MS = 30 * 60_000;
/** Largest `batchSize` the queue extension accepts (`QueuesOptions.MaxBatchSize`). */
export const MAX_BATCH_SIZE = 32;

/**
 * Parses a .NET `TimeSpan` string as host.json writes it (`[d.]hh:mm:ss[.fffffff]`) into milliseconds.
 * Returns `undefined` when the text is not a TimeSpan.
 */
export function parseTimeSpan(text: string): number | undefined {
  const m = /^\s*(-)?(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?\s*$/.exec(text);
  if (!m) return undefined;
  const [, neg, days, hours, minutes, seconds, fraction] = m;
  const h = Number(hours);
  const min = Number(minutes);
  const s = Number(seconds ?? '0');
  if (h > 23 || min > 59 || s > 59) return undefined;
  const ms =
    Number(days ?? '0') * 86_400_000 +
    h * 3_600_000 +
    min * 60_000 +
    s * 1000 +
    Math.round(Number(`0.${fraction ?? '0'}`) * 1000);
  return neg ? -ms : ms;
}

function readObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Looks a key up case-insensitively, as the host's configuration binder does. */
function pick(obj: Record<string, unknown> | undefined, key: string): unknown {
  if (!obj) return undefined;
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

type JsonObject = Record<string, unknown>;

/** Reads a TimeSpan (or a number of milliseconds) at `path`; an invalid value is added to `problems`. */
function readDuration(
  owner: JsonObject | undefined,
  key: string,
  path: string,
  problems: string[],
): number | undefined {
  const raw = pick(owner, key);
  if (raw === undefined) return undefined;
  const ms = typeof raw === 'number' ? raw : typeof raw === 'string' ? parseTimeSpan(raw) : undefined;
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
    problems.push(`host.json: "${path}" must be a TimeSpan such as "00:00:30" (got ${JSON.stringify(raw)})`);
    return undefined;
  }
  return ms;
}

/** Reads the integer `extensions.queues.<key>`; a value outside `min`–`max` is added to `problems`. */
function readQueueInteger(
  queues: JsonObject | undefined,
  key: string,
  [min, max]: readonly [min: number, max: number],
  problems: string[],
): number | undefined {
  const raw = pick(queues, key);
  if (raw === undefined) return undefined;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
    problems.push(
      `host.json: "extensions.queues.${key}" must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`,
    );
    return undefined;
  }
  return raw;
}

/** The host.json object, checking that it is one and that `version` is `"2.0"`. */
function readRoot(json: unknown, problems: string[]): JsonObject | undefined {
  const root = readObject(json);
  if (json !== undefined && !root) problems.push('host.json: must be a JSON object');
  const version = pick(root, 'version');
  if (root && version !== '2.0')
    problems.push(`host.json: "version" must be "2.0" (got ${JSON.stringify(version)})`);
  return root;
}

function readMaxPollingInterval(
  queues: JsonObject | undefined,
  options: LoadHostSettingsOptions,
  problems: string[],
): number {
  const path = 'extensions.queues.maxPollingInterval';
  const configured = readDuration(queues, 'maxPollingInterval', path, problems);
  if (configured !== undefined && configured < MIN_POLLING_INTERVAL_MS) {
    problems.push(`host.json: "${path}" must be at least 00:00:00.100`);
  }
  const fallback =
    (options.development ?? true) ? DEVELOPMENT_MAX_POLLING_INTERVAL_MS : DEFAULT_MAX_POLLING_INTERVAL_MS;
  return Math.max(MIN_POLLING_INTERVAL_MS, configured ?? fallback);
}

function readMessageEncoding(queues: JsonObject | undefined, problems: string[]): MessageEncoding {
  const raw = pick(queues, 'messageEncoding');
  if (typeof raw === 'string' && ['base64', 'none'].includes(raw.toLowerCase())) {
    return raw.toLowerCase() as MessageEncoding;
  }
  if (raw !== undefined) {
    problems.push(
      `host.json: "extensions.queues.messageEncoding" must be "base64" or "none" (got ${JSON.stringify(raw)})`,
    );
  }
  return 'base64';
}

/** The `extensions.queues` settings, with the host's defaults for those left out. */
function readQueueSettings(
  queues: JsonObject | undefined,
  options: LoadHostSettingsOptions,
  problems: string[],
): QueueHostSettings {
  const batchSize = readQueueInteger(queues, 'batchSize', [1, MAX_BATCH_SIZE], problems) ?? 16;
  const newBatchThreshold =
    readQueueInteger(queues, 'newBatchThreshold', [0, Number.MAX_SAFE_INTEGER], problems) ??
    Math.floor(batchSize / 2) * (options.processorCount ?? 1);
  const maxDequeueCount =
    readQueueInteger(queues, 'maxDequeueCount', [1, Number.MAX_SAFE_INTEGER], problems) ?? 5;
  const maxPollingIntervalMs = readMaxPollingInterval(queues, options, problems);
  const visibilityTimeoutMs =
    readDuration(queues, 'visibilityTimeout', 'extensions.queues.visibilityTimeout', problems) ?? 0;
  const messageEncoding = readMessageEncoding(queues, problems);
  return {
    batchSize,
    newBatchThreshold,
    maxPollingIntervalMs,
    visibilityTimeoutMs,
    maxDequeueCount,
    messageEncoding,
  };
}

/**
 * Builds {@link HostSettings} from a parsed host.json object, filling in the host's defaults and
 * reporting every invalid value in one {@link ConfigError}.
 */
export function hostSettingsFromJson(json: unknown, options: LoadHostSettingsOptions = {}): HostSettings {
  const problems: string[] = [];
  const root = readRoot(json, problems);
  const queueJson = readObject(pick(readObject(pick(root, 'extensions')), 'queues'));
  const queues = readQueueSettings(queueJson, options, problems);
  const functionTimeoutMs =
    readDuration(root, 'functionTimeout', 'functionTimeout', problems) ?? DEFAULT_FUNCTION_TIMEOUT_MS;
  if (problems.length > 0) throw new ConfigError(problems);
  return { functionTimeoutMs, queues };
}

/**
 * Reads the queue settings and `functionTimeout` of a host.json file, with the real host's defaults
 * for everything it leaves out. A missing file yields all defaults; invalid JSON or values throw a
 * {@link ConfigError} naming each problem.
 *
 * @example
 * const { queues } = loadHostSettings('host.json');
 * queues.batchSize + queues.newBatchThreshold; // the most messages one queue function runs at once
 */
export function loadHostSettings(path: string, options: LoadHostSettingsOptions = {}): HostSettings {
  if (!existsSync(path)) return hostSettingsFromJson(undefined, options);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError([`host.json: not valid JSON (${(err as Error).message})`]);
  }
  return hostSettingsFromJson(json, options);
}
