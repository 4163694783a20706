import type { InvocationContext } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import {
  escapeControlCharacters,
  jsonLogger,
  type Logger,
  memoryLogger,
  prettyLogger,
  registerSecret,
  withFields,
} from '../../shared/logger.js';
import { invocationLogger } from '../../shared/runtime/invocationLogger.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const FORGED = 'Executed function (Succeeded)  function=onResourceEvent';
const HOSTILE = `a\n${FORGED}\r\t\u0000\u001b[31m\u007f\u0085\u009b2J\u2028\u2029z`;
const ESCAPED = `a\\n${FORGED}\\r\\t\\u0000\\u001b[31m\\u007f\\u0085\\u009b2J\\u2028\\u2029z`;

/** Every string (keys included) in a value. */
function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => [k, ...allStrings(v)]);
}

/** Logs the hostile text as message, field key, field value, nested value and Error. */
function logHostile(logger: Logger): void {
  logger.warn(HOSTILE, {
    functionName: HOSTILE,
    [`k\n${FORGED}`]: 1,
    nested: { labels: { 'l\u001b': [HOSTILE] } },
    error: new Error(HOSTILE),
    plain: 'safe-value',
  });
}

describe('escapeControlCharacters', () => {
  it('spells C0, DEL, C1 and U+2028/2029 as JSON escapes and leaves other text alone', () => {
    expect(escapeControlCharacters(HOSTILE)).toBe(ESCAPED);
    expect(escapeControlCharacters('café ✓ C:\\path "q"')).toBe('café ✓ C:\\path "q"');
  });
});

describe('every logger escapes control characters in messages and fields', () => {
  it('prettyLogger writes one line with nothing a terminal acts on', () => {
    const out: string[] = [];
    logHostile(prettyLogger('debug', (l) => out.push(l)));

    expect(out).toHaveLength(1);
    const [line = ''] = out;
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toMatch(CONTROL);
    expect(line.startsWith(`WARN ${ESCAPED}`)).toBe(true);
    expect(line).toContain('plain=safe-value');
  });

  it('jsonLogger writes a line whose decoded message and fields hold no control characters', () => {
    const out: string[] = [];
    logHostile(jsonLogger('debug', (l) => out.push(l)));

    expect(out).toHaveLength(1);
    const parsed = JSON.parse(out[0] ?? '') as Record<string, unknown>;
    expect(parsed.message).toBe(ESCAPED);
    expect(parsed.functionName).toBe(ESCAPED);
    expect(parsed.error).toBe(ESCAPED);
    expect(parsed.nested).toEqual({ labels: { 'l\\u001b': [ESCAPED] } });
    expect(parsed[`k\\n${FORGED}`]).toBe(1);
    expect(JSON.stringify(Object.keys(parsed))).not.toMatch(CONTROL);
    expect(out[0]).not.toMatch(/[\u007f-\u009f\u2028\u2029]/);
  });

  it('memoryLogger, withFields and invocationLogger hand escaped text to their sinks', () => {
    const memory = memoryLogger();
    logHostile(withFields(memory, { cluster: `c\u001b[2J` }));
    const texts: string[] = [];
    const record = (t: string) => texts.push(t);
    const context = { debug: record, info: record, warn: record, error: record };
    logHostile(invocationLogger(context as unknown as InvocationContext, { origin: `o\n${FORGED}` }));

    const [line] = memory.lines;
    expect(line?.message).toBe(ESCAPED);
    expect(line?.fields?.cluster).toBe('c\\u001b[2J');
    for (const text of allStrings(line)) expect(text).not.toMatch(CONTROL);
    expect(texts).toHaveLength(1);
    expect(texts[0]).not.toMatch(CONTROL);
    expect(texts[0]?.startsWith(ESCAPED)).toBe(true);
  });

  it('still redacts registered secrets, before escaping', () => {
    registerSecret('s3cr3t-logger-token');
    const memory = memoryLogger();
    memory.info('token s3cr3t-logger-token\n', {
      header: 'Bearer s3cr3t-logger-token',
      deep: { t: ['s3cr3t-logger-token'] },
    });

    expect(JSON.stringify(memory.lines)).not.toContain('s3cr3t-logger-token');
    expect(memory.lines[0]?.message).toBe('token ***\\n');
    expect(memory.lines[0]?.fields).toEqual({ header: 'Bearer ***', deep: { t: ['***'] } });
  });

  it('keeps numbers, booleans, null and dates, and bounds cyclic values', () => {
    const cyclic: Record<string, unknown> = { name: 'x' };
    cyclic.self = cyclic;
    const memory = memoryLogger();
    memory.info('m', { n: 3, b: false, z: null, at: new Date(0), cyclic });

    const fields = memory.lines[0]?.fields ?? {};
    expect(fields).toMatchObject({ n: 3, b: false, z: null, at: '1970-01-01T00:00:00.000Z' });
    expect(JSON.stringify(fields.cyclic)).toContain('[…]');
  });
});
