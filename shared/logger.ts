/**
 * Structured logging. `shared/` code takes a {@link Logger} and writes one line per event with
 * fields such as `cluster`, `target`, `generation` and counts. Secrets registered with
 * {@link registerSecret} are replaced by `***` in every message and field, as a last line of defence,
 * and control characters are escaped in both (see {@link escapeControlCharacters}), so text from
 * outside can neither forge a line nor drive the terminal.
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

// biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const SHORT_ESCAPES: Record<string, string> = {
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};
/** Nesting depth of field values that is cleaned; deeper values (or cycles) become `[…]`. */
const MAX_FIELD_DEPTH = 8;

/**
 * Escapes the control characters C0 (including newline, tab and ESC), DEL, C1 (including CSI) and
 * U+2028/U+2029 the way JSON spells them (`\n`, `\u001b`, `\u009b` …). Other text is unchanged.
 */
export function escapeControlCharacters(text: string): string {
  return text.replace(
    CONTROL_CHARACTERS,
    (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function cleanText(text: string): string {
  return escapeControlCharacters(redact(text));
}

function cleanObject(value: object, depth: number): unknown {
  if (Array.isArray(value)) return value.map((v) => cleanValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[cleanText(k)] = cleanValue(v, depth + 1);
  return out;
}

function cleanValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return cleanText(value);
  if (value instanceof Error) return cleanText(value.message);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_FIELD_DEPTH) return '[…]';
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return cleanValue(toJSON.call(value), depth + 1);
  return cleanObject(value, depth);
}

function safeFields(fields: LogFields | undefined): LogFields | undefined {
  if (!fields) return undefined;
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined) out[cleanText(k)] = cleanValue(v, 0);
  }
  return out;
}

/** A sink receiving a finished line: redacted, control characters escaped in message and fields. */
export type LogSink = (level: LogLevel, message: string, fields: LogFields | undefined) => void;

/**
 * Builds a logger that filters by level, redacts secrets, escapes control characters in the
 * message and in every field value (nested ones too) and hands lines to `sink`.
 */
export function createLogger(sink: LogSink, minLevel: LogLevel = 'info'): Logger {
  const emit = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (LEVEL_ORDER[level] < LEVEL_ORDER[minLevel]) return;
    sink(level, cleanText(String(message)), safeFields(fields));
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
