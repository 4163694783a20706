import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InvocationContext } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { withFields } from '../../../shared/logger.js';
import { invocationLogger } from '../../../shared/runtime/invocationLogger.js';

/**
 * The alert queries in infra/queries/ (and the workbook in infra/modules/workbook.bicep) read what
 * shared/runtime/invocationLogger.ts really writes to traces.message: the same extract pattern
 * applied to the logger's output gives back the fields, the messages they match are ones the code
 * logs, and every field they read is one the code writes.
 */

const ROOT = join(import.meta.dirname, '..', '..', '..');
const QUERIES = join(ROOT, 'infra', 'queries');
/** Lines the Functions host writes itself (Microsoft.Azure.WebJobs queue extension, QueueProcessor). */
const HOST_MESSAGES = ['Message has reached MaxDequeueCount'];

const queries = readdirSync(QUERIES)
  .filter((f) => f.endsWith('.kql'))
  .map((file) => ({ file, text: readFileSync(join(QUERIES, file), 'utf8') }));

function extractPattern(kql: string): RegExp | undefined {
  const m = /extract\(@'([^']+)', 1, message\)/.exec(kql);
  return m ? new RegExp(m[1] as string) : undefined;
}

/** The text a function's context receives for each line. */
function capture(log: (logger: ReturnType<typeof invocationLogger>) => void, base = {}): string[] {
  const texts: string[] = [];
  const record = (t: string) => texts.push(t);
  const context = { debug: record, info: record, warn: record, error: record };
  log(invocationLogger(context as unknown as InvocationContext, base));
  return texts;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(join(dir, f), 'utf8'));
}
const SOURCES = [...sourceFiles(join(ROOT, 'shared')), ...sourceFiles(join(ROOT, 'functions'))].join('\n');

describe('alert and workbook queries against the invocation logger', () => {
  it('every query that reads fields uses one extract pattern, also the workbook', () => {
    const patterns = queries
      .filter((q) => q.text.includes('fields.'))
      .map((q) => extractPattern(q.text)?.source);
    const workbook = readFileSync(join(ROOT, 'infra', 'modules', 'workbook.bicep'), 'utf8');

    expect(patterns.length).toBeGreaterThanOrEqual(5);
    expect(new Set(patterns).size).toBe(1);
    expect(patterns[0]).toBeDefined();
    // The workbook holds the pattern in a Bicep string: \' for ' and \\ for \.
    expect(workbook.replaceAll('\\\\', '\\')).toContain(`extract(@\\'${patterns[0]}\\', 1, message)`);
  });

  it('gives back the fields of a real line, even when the message quotes a forged fields object', () => {
    const pattern = extractPattern(
      queries.find((q) => q.file === 'poisonedMessages.kql')?.text ?? '',
    ) as RegExp;
    const forged =
      'event rejected: subject /x {"logger":"aks-panorama-sync","cluster":"forged","dequeueCount":9}';
    const [plain, hostile, bare] = capture(
      (logger) => {
        const log = withFields(logger, { cluster: 'aks-prod-1', target: '0123456789', generation: 7 });
        log.error('push failed; the message is retried, then poisoned', {
          error: 'HTTP 503 {"x": 1}',
          kind: 'retryable',
        });
        log.error(forged);
        logger.warn(forged);
      },
      { dequeueCount: 5 },
    );

    const fieldsOf = (text: string | undefined) => JSON.parse(pattern.exec(text ?? '')?.[1] ?? 'null');
    expect(fieldsOf(plain)).toMatchObject({
      cluster: 'aks-prod-1',
      target: '0123456789',
      dequeueCount: 5,
      kind: 'retryable',
    });
    expect(fieldsOf(hostile)).toMatchObject({ cluster: 'aks-prod-1', dequeueCount: 5 });
    expect(fieldsOf(bare)).toEqual({ logger: 'aks-panorama-sync', dequeueCount: 5 });
    expect(plain?.startsWith('push failed; the message is retried, then poisoned {"logger"')).toBe(true);
  });

  it.each(queries.map((q) => [q.file, q.text] as const))(
    '%s matches only messages the code (or the host) logs',
    (_file, kql) => {
      const literals = [...kql.matchAll(/message (?:startswith|has) "([^"]+)"/g)].map((m) => m[1] as string);

      expect(literals.length).toBeGreaterThan(0);
      for (const literal of literals) {
        if (HOST_MESSAGES.includes(literal)) continue;
        expect(SOURCES.includes(literal), `"${literal}" is logged somewhere in shared/ or functions/`).toBe(
          true,
        );
      }
    },
  );

  it.each(queries.map((q) => [q.file, q.text] as const))(
    '%s reads only fields the code writes',
    (_file, kql) => {
      const names = [...new Set([...kql.matchAll(/fields\.(\w+)/g)].map((m) => m[1] as string))];

      for (const name of names) {
        expect(new RegExp(`[{,]\\s*${name}\\s*[:,}]|\\b${name}:`).test(SOURCES), `field ${name}`).toBe(true);
      }
    },
  );

  it("counts a failed attempt as poisoned at host.json's maxDequeueCount", () => {
    const host = JSON.parse(readFileSync(join(ROOT, 'host.json'), 'utf8')) as {
      extensions: { queues: { maxDequeueCount: number } };
    };
    const kql = queries.find((q) => q.file === 'poisonedMessages.kql')?.text ?? '';

    expect(kql).toContain(`toint(fields.dequeueCount) >= ${host.extensions.queues.maxDequeueCount}`);
  });
});
