import { describe, expect, it } from 'vitest';
import { PanoramaError } from '../../../shared/errors.js';
import { memoryLogger } from '../../../shared/logger.js';
import { SharedCallLimit, type SharedCallLimitOptions } from '../../../shared/panorama/SharedCallLimit.js';
import type { PermitRepository } from '../../../shared/state/PermitRepository.js';
import { MemoryPermits } from '../../helpers/memoryPermits.js';

const PARTITION = 'panorama.example.net';

/** A clock that only moves when the limit sleeps (no real waiting). */
function fakeClock(start = Date.parse('2024-05-01T12:00:00.000Z')) {
  const clock = { t: start, sleeps: [] as number[] };
  return {
    clock,
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.t += ms;
      await new Promise((r) => setImmediate(r));
    },
  };
}

function limit(permits: PermitRepository, over: Partial<SharedCallLimitOptions> = {}): SharedCallLimit {
  return new SharedCallLimit({
    permits,
    partition: PARTITION,
    limit: 2,
    permitMs: 60_000,
    maxWaitMs: 120_000,
    owner: 'instance-a',
    sleep: () => new Promise((r) => setTimeout(r, 1)),
    ...over,
  });
}

/** A call that counts how many run at once (`peak`) and takes a few ms. */
function meteredCalls() {
  const m = { now: 0, peak: 0 };
  const call = async (): Promise<number> => {
    m.now++;
    m.peak = Math.max(m.peak, m.now);
    await new Promise((r) => setTimeout(r, 2));
    m.now--;
    return 1;
  };
  return { m, call };
}

describe('SharedCallLimit', () => {
  it('keeps the calls of several instances on one store at or below the limit', async () => {
    const permits = new MemoryPermits();
    const instances = ['a', 'b', 'c'].map((owner) => limit(permits, { owner, limit: 3 }));
    const { m, call } = meteredCalls();
    const results = await Promise.all(
      instances.flatMap((i) => Array.from({ length: 15 }, () => i.withPermit(call))),
    );
    expect(results).toHaveLength(45);
    expect(m.peak).toBeLessThanOrEqual(3);
    expect(m.peak).toBeGreaterThan(0);
    // The same calls without the limit run far above it: the meter can see a breach.
    const free = meteredCalls();
    await Promise.all(Array.from({ length: 45 }, () => free.call()));
    expect(free.m.peak).toBeGreaterThan(3);
  });

  it('gives the permit back after a call that succeeds and after one that fails', async () => {
    const permits = new MemoryPermits();
    const l = limit(permits);
    expect(await l.withPermit(async () => 'ok')).toBe('ok');
    const boom = new Error('boom');
    await expect(l.withPermit(() => Promise.reject(boom))).rejects.toBe(boom);
    await new Promise((r) => setTimeout(r, 5));
    const rows = await permits.list(PARTITION);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.owner).toBe('');
  });

  it('holds a permit as "<owner>#<n>" until now + permitMs while the call runs', async () => {
    const permits = new MemoryPermits();
    const { now } = fakeClock();
    const l = limit(permits, { limit: 1, now, permitMs: 90_000 });
    const seen = await l.withPermit(() => permits.list(PARTITION));
    expect(seen).toEqual([
      { index: 0, owner: 'instance-a#1', untilMs: now() + 90_000, etag: expect.any(String) },
    ]);
  });

  it('costs three storage operations per uncontended call (list + take, then give back)', async () => {
    const permits = new MemoryPermits();
    const l = limit(permits, { limit: 1 });
    await l.withPermit(async () => {});
    await new Promise((r) => setTimeout(r, 5));
    const before = permits.operations;
    for (let i = 0; i < 5; i++) await l.withPermit(async () => {});
    await new Promise((r) => setTimeout(r, 5));
    expect(permits.operations - before).toBe(15);
  });

  it('takes over a hold that expired (a crashed instance) and says so', async () => {
    const permits = new MemoryPermits();
    const { clock, now, sleep } = fakeClock();
    await permits.create(PARTITION, 0, { owner: 'crashed#3', untilMs: clock.t + 10_000 });
    const logger = memoryLogger('debug');
    const l = limit(permits, { limit: 1, now, sleep, logger, random: () => 0.5 });
    expect(await l.withPermit(async () => 'done')).toBe('done');
    expect(clock.t).toBeGreaterThanOrEqual(Date.parse('2024-05-01T12:00:10.000Z'));
    const warn = logger.lines.find((x) => x.message.startsWith('took over an expired'));
    expect(warn?.fields).toMatchObject({ partition: PARTITION, permit: 0, previousOwner: 'crashed#3' });
  });

  it('polls with jittered exponential backoff while every permit is held, then fails retryably', async () => {
    const permits = new MemoryPermits();
    const { clock, now, sleep } = fakeClock();
    await permits.create(PARTITION, 0, { owner: 'busy#1', untilMs: clock.t + 3_600_000 });
    const l = limit(permits, {
      limit: 1,
      now,
      sleep,
      random: () => 0,
      maxWaitMs: 2_000,
      poll: { baseMs: 100, maxMs: 800 },
    });
    let ran = false;
    const err = await l
      .withPermit(async () => {
        ran = true;
      })
      .catch((e: unknown) => e);
    expect(ran).toBe(false);
    expect(err).toBeInstanceOf(PanoramaError);
    expect(err).toMatchObject({ kind: 'retryable', details: { partition: PARTITION, limit: 1 } });
    expect((err as Error).message).toContain('no Panorama call permit within 2 s');
    // random() = 0: half of 100, 200, 400, 800, 800 … until 2 s have passed.
    expect(clock.sleeps.slice(0, 5)).toEqual([50, 100, 200, 400, 400]);
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(2_000);
  });

  it('still returns the result when the permit cannot be given back (it expires on its own)', async () => {
    const permits = new MemoryPermits();
    const failing: PermitRepository = {
      list: (p) => permits.list(p),
      create: (p, i, h) => permits.create(p, i, h),
      replace: (p, i, e, h) =>
        h === undefined ? Promise.reject(new Error('storage down')) : permits.replace(p, i, e, h),
    };
    const logger = memoryLogger('debug');
    const l = limit(failing, { logger });
    expect(await l.withPermit(async () => 42)).toBe(42);
    await new Promise((r) => setTimeout(r, 5));
    expect(logger.lines.some((x) => x.message.startsWith('could not give a Panorama call permit back'))).toBe(
      true,
    );
  });

  it('fails the call without running it when storage cannot be read', async () => {
    const broken: PermitRepository = {
      list: () => Promise.reject(new Error('storage down')),
      create: () => Promise.reject(new Error('unused')),
      replace: () => Promise.reject(new Error('unused')),
    };
    let ran = false;
    await expect(
      limit(broken).withPermit(async () => {
        ran = true;
      }),
    ).rejects.toThrow('storage down');
    expect(ran).toBe(false);
  });
});
