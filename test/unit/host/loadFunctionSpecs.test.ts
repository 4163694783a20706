import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { loadFunctionSpecs, withRegistrationWarningsSilenced } from '../../../host/loadFunctionSpecs.js';
import { ConfigError } from '../../../shared/errors.js';
import { defineQueueFunction, defineTimerFunction } from '../../../shared/functionSpecs.js';

const specsModule = pathToFileURL(
  join(import.meta.dirname, '..', '..', '..', 'shared', 'functionSpecs.ts'),
).href;
const dirs: string[] = [];

function functionsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'functions-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

afterEach(() => vi.restoreAllMocks());
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('loadFunctionSpecs', () => {
  it('collects the specs exported by every .js module of a directory, silencing registration warnings', async () => {
    const dir = functionsDir({
      'onTimer.js': `import { defineTimerFunction } from '${specsModule}';
        export const reconcile = defineTimerFunction({ name: 'reconcile', schedule: '0 */5 * * * *', handler: async () => {} });`,
      'pushDeltas.js': `import { defineQueueFunction } from '${specsModule}';
        export const helper = 42;
        export default defineQueueFunction({ name: 'pushDeltas', queueName: 'tag-deltas', handler: async () => {} });`,
      'notes.txt': 'not a module',
      'pushDeltas.js.map': '{}',
    });
    const warn = vi.spyOn(console, 'warn');
    const specs = await loadFunctionSpecs(dir);
    expect(specs.map((s) => [s.kind, s.name])).toEqual([
      ['timer', 'reconcile'],
      ['queue', 'pushDeltas'],
    ]);
    expect(warn).not.toHaveBeenCalled();
  });

  it('refuses two functions with the same name (case-insensitively)', async () => {
    const specs = withRegistrationWarningsSilenced(() => [
      defineQueueFunction({ name: 'pushDeltas', queueName: 'a', handler: async () => {} }),
      defineTimerFunction({ name: 'PushDeltas', schedule: '0 0 * * * *', handler: async () => {} }),
    ]);
    await expect(loadFunctionSpecs(specs)).rejects.toBeInstanceOf(ConfigError);
  });

  it('reports a directory that cannot be read', async () => {
    await expect(loadFunctionSpecs(join(tmpdir(), 'no-such-functions-dir-x'))).rejects.toThrow(
      /cannot be read/,
    );
  });
});

describe('withRegistrationWarningsSilenced', () => {
  it('drops only the test-mode warnings of @azure/functions and restores console.warn', () => {
    const seen: unknown[] = [];
    const original = console.warn;
    console.warn = (...args: unknown[]) => seen.push(args[0]);
    try {
      withRegistrationWarningsSilenced(() => {
        console.warn(
          'WARNING: Skipping call to register function "x" because the "@azure/functions" package is in test mode.',
        );
        console.warn('something else');
      });
      console.warn('after');
    } finally {
      console.warn = original;
    }
    expect(seen).toEqual(['something else', 'after']);
  });
});
