import { describe, expect, it } from 'vitest';
import { type InvocationRecord, Invoker } from '../../../host/Invoker.js';
import { withRegistrationWarningsSilenced } from '../../../host/loadFunctionSpecs.js';
import { defineQueueFunction } from '../../../shared/functionSpecs.js';
import { memoryLogger } from '../../../shared/logger.js';

const spec = withRegistrationWarningsSilenced(() =>
  defineQueueFunction({ name: 'pushDeltas', queueName: 'tag-deltas', handler: async () => {} }),
);

describe('Invoker', () => {
  it('routes context.log/warn/error to the host logger with the function name and invocation id', async () => {
    const log = memoryLogger();
    const invoker = new Invoker({ logger: log, functionTimeoutMs: 60_000 });
    await invoker.invoke(spec, async (context) => {
      context.log('pushed %d entries', 3);
      context.warn('slow target');
      context.error(new Error('ignored'));
    });
    const lines = log.lines.filter((l) => !l.message.startsWith('Executed'));
    expect(lines.map((l) => [l.level, l.message])).toEqual([
      ['info', 'pushed 3 entries'],
      ['warn', 'slow target'],
      ['error', expect.stringContaining('Error: ignored')],
    ]);
    expect(lines[0]?.fields).toMatchObject({ function: 'pushDeltas', invocationId: expect.any(String) });
  });

  it('counts and reports each outcome once', async () => {
    const records: InvocationRecord[] = [];
    const invoker = new Invoker({
      logger: memoryLogger(),
      functionTimeoutMs: 60_000,
      onInvocation: (r) => records.push(r),
    });
    const ok = await invoker.invoke(spec, async () => 'done', { dequeueCount: 1 });
    const failed = await invoker.invoke(
      spec,
      async () => {
        throw new Error('Panorama answered 503');
      },
      { dequeueCount: 2 },
    );
    expect(ok).toEqual({ ok: true, value: 'done' });
    expect(failed.ok).toBe(false);
    expect(invoker.counters).toMatchObject({ started: 2, succeeded: 1, failed: 1, inFlight: 0 });
    expect(records.map((r) => [r.outcome, r.dequeueCount, r.error])).toEqual([
      ['succeeded', 1, undefined],
      ['failed', 2, 'Panorama answered 503'],
    ]);
  });

  it('fails an invocation that runs past functionTimeout, with the host message', async () => {
    const invoker = new Invoker({ logger: memoryLogger(), functionTimeoutMs: 1_000 });
    const result = await invoker.invoke(spec, () => new Promise<never>(() => {}));
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : String(result.error)).toMatch(
      /Timeout value of 00:00:01 was exceeded by function: pushDeltas/,
    );
    expect(invoker.counters.failed).toBe(1);
  });

  it('treats a handler that throws synchronously as a failed invocation', async () => {
    const invoker = new Invoker({ logger: memoryLogger(), functionTimeoutMs: 60_000 });
    const result = await invoker.invoke(spec, () => {
      throw new Error('sync');
    });
    expect(result.ok).toBe(false);
  });
});
