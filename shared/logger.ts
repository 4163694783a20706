/**
 * Structured logging. `shared/` code takes a {@link Logger} and writes one line per event with
 * fields such as `cluster`, `target`, `generation` and counts. Secrets registered with
 * {@link registerSecret} are replaced by `***` in every message and field, as a last line of defence.
 */

/** Context fields of a log line (cluster, target, generation, counts, durations …). */
export type LogFields = Record<string, unknown>;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The narrow logger every adapter and pipeline step receives. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const secrets = new Set<string>();

/** Registers a secret value (API key, password, token) to be masked in every log line. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value);
}

/** Masks every registered secret in `text`. */
export function redact(text: string): string {
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join('***');
  }
  return out;
}

function safeFields(fields: LogFields | undefined): LogFields | undefined {
  if (!fields) return undefined;
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    if (v instanceof Error) out[k] = redact(v.message);
    else if (typeof v === 'string') out[k] = redact(v);
    else out[k] = v;
  }
  return out;
}

/** A sink receiving a finished, redacted line. */
export type LogSink = (level: LogLevel, message: string, fields: LogFields | undefined) => void;

/** Builds a logger that filters by level, redacts secrets and hands lines to `sink`. */
export function createLogger(sink: LogSink, minLevel: LogLevel = 'info'): Logger {
  const emit = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (LEVEL_ORDER[level] < LEVEL_ORDER[minLevel]) return;
    sink(level, redact(message), safeFields(fields));
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** JSON-lines logger on stderr (machine readable; used by the CLI with `--json-logs` and in Azure). */
export function jsonLogger(
  minLevel: LogLevel = 'info',
  write: (line: string) => void = (l) => process.stderr.write(l),
): Logger {
  return createLogger((level, message, fields) => {
    write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
  }, minLevel);
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /\s/.test(v) || v === '' ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

/** Human-readable logger for terminals: `LEVEL message key=value …`. */
export function prettyLogger(
  minLevel: LogLevel = 'info',
  write: (line: string) => void = (l) => process.stderr.write(l),
): Logger {
  return createLogger((level, message, fields) => {
    const kv = fields
      ? Object.entries(fields)
          .map(([k, v]) => `${k}=${formatValue(v)}`)
          .join(' ')
      : '';
    const tag = level === 'info' ? '' : `${level.toUpperCase()} `;
    write(`${tag}${message}${kv ? `  ${kv}` : ''}\n`);
  }, minLevel);
}

/** A logger that keeps lines in memory (tests, `status`). */
export function memoryLogger(minLevel: LogLevel = 'debug'): Logger & {
  lines: { level: LogLevel; message: string; fields: LogFields | undefined }[];
} {
  const lines: { level: LogLevel; message: string; fields: LogFields | undefined }[] = [];
  const logger = createLogger((level, message, fields) => lines.push({ level, message, fields }), minLevel);
  return Object.assign(logger, { lines });
}

/** A logger that discards everything. */
export const silentLogger: Logger = createLogger(() => {}, 'error');

/** Returns a logger that adds `fields` to every line. */
export function withFields(logger: Logger, fields: LogFields): Logger {
  const wrap =
    (fn: (m: string, f?: LogFields) => void) =>
    (message: string, more?: LogFields): void =>
      fn(message, { ...fields, ...more });
  return {
    debug: wrap(logger.debug.bind(logger)),
    info: wrap(logger.info.bind(logger)),
    warn: wrap(logger.warn.bind(logger)),
    error: wrap(logger.error.bind(logger)),
  };
}
