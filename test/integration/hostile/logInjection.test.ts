import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalHost } from '../../../host/startLocalHost.js';
import { defineEventGridFunction } from '../../../shared/functionSpecs.js';
import { jsonLogger, type Logger, memoryLogger, prettyLogger } from '../../../shared/logger.js';
import { quietly, startTestHost } from '../host/hostTestKit.js';

/**
 * Hostile text in the Event Grid webhook's `functionName` and in event ids/types reaches the local
 * host's log (terminal and JSON lines) and its answers escaped: no forged line, no terminal escape.
 */

const FORGED = 'Executed function (Succeeded)  function=onResourceEvent durationMs=1';
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const HOSTILE = `nope\n${FORGED}\r\n\u001b[31mred\u001b[0m\u009b2J\u2028x\u0007`;

const pretty: string[] = [];
const json: string[] = [];
const memory = memoryLogger('debug');
const outputs = [
  prettyLogger('debug', (l) => pretty.push(l)),
  jsonLogger('debug', (l) => json.push(l)),
  memory,
];
function teeTo(level: keyof Logger): Logger[keyof Logger] {
  return (message, fields) => {
    for (const output of outputs) output[level](message, fields);
  };
}
const tee: Logger = {
  debug: teeTo('debug'),
  info: teeTo('info'),
  warn: teeTo('warn'),
  error: teeTo('error'),
};

let host: LocalHost;
const seen: string[] = [];

beforeAll(async () => {
  const specs = quietly(() => [
    defineEventGridFunction({
      name: 'onResourceEvent',
      handler: async (event, context) => {
        seen.push(event.id);
        context.log(`handled ${event.subject}`);
      },
    }),
  ]);
  host = await startTestHost(specs, { logger: tee });
}, 120_000);

afterAll(async () => {
  await host?.stop();
});

function webhook(functionName: string): string {
  return `${host.url}/runtime/webhooks/eventgrid?functionName=${encodeURIComponent(functionName)}`;
}

/** Every physical line written so far, by any logger (the JSON ones decoded to their text). */
function renderedLines(): string[] {
  const decoded = json.map((l) => {
    expect(l.endsWith('\n')).toBe(true);
    return Object.values(JSON.parse(l) as Record<string, unknown>)
      .map((v) => (typeof v === 'string' ? v : JSON.stringify(v)))
      .join(' ');
  });
  const memoryText = memory.lines.map((l) => `${l.message} ${JSON.stringify(l.fields ?? {})}`);
  return [...pretty.join('').split('\n'), ...decoded.flatMap((t) => t.split('\n')), ...memoryText];
}

function expectNoInjection(): void {
  expect(pretty.join('').split('\n').length).toBe(pretty.length + 1);
  for (const line of renderedLines()) {
    expect(line).not.toMatch(CONTROL);
    expect(line.startsWith(FORGED)).toBe(false);
  }
}

describe('log injection through the Event Grid webhook', () => {
  it('escapes a hostile functionName in the log and in the 404 answer', async () => {
    const before = pretty.length;
    const res = await fetch(webhook(HOSTILE), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' },
      body: '[]',
    });

    expect(res.status).toBe(404);
    const text = await res.text();
    expect(text).not.toMatch(CONTROL);
    expect(text).toContain('\\n');
    expect(text).toContain('\\u001b[31m');
    expect(pretty.length).toBeGreaterThan(before);
    expect(pretty.join('')).toContain('cannot find function');
    expectNoInjection();
  });

  it('escapes hostile event ids and types in the invocation lines', async () => {
    const res = await fetch(webhook('onResourceEvent'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' },
      body: JSON.stringify([
        {
          id: `evt\u001b]0;pwned\u0007\u009b2J`,
          eventType: HOSTILE,
          subject: `/subscriptions/s\n${FORGED}`,
          eventTime: new Date().toISOString(),
          data: {},
        },
      ]),
    });

    expect(res.status).toBe(202);
    expect(seen).toHaveLength(1);
    const lines = pretty.join('').split('\n');
    expect(lines.filter((l) => l.startsWith('Executed function (Succeeded)'))).toHaveLength(1);
    expect(pretty.join('')).toContain('handled /subscriptions/s\\n');
    expectNoInjection();
  });
});
