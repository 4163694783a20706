import type { Timer } from '@azure/functions';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalHost } from '../../../host/startLocalHost.js';
import { ConfigError } from '../../../shared/errors.js';
import { defineTimerFunction } from '../../../shared/functionSpecs.js';
import { gate, quietly, startTestHost, waitFor } from './hostTestKit.js';

let host: LocalHost | undefined;

afterEach(async () => {
  await host?.stop();
  host = undefined;
});

describe('timer trigger', () => {
  it('resolves a %SETTING% schedule and fires on it', async () => {
    const timers: Timer[] = [];
    const spec = quietly(() =>
      defineTimerFunction({
        name: 'reconcile',
        schedule: '%TEST_RECONCILE_SCHEDULE%',
        handler: async (timer) => {
          timers.push(timer);
        },
      }),
    );
    host = await startTestHost([spec], { settings: { TEST_RECONCILE_SCHEDULE: '* * * * * *' } });

    await waitFor('three scheduled runs', () => timers.length >= 3);
    const [first, second] = timers;
    expect(first?.isPastDue).toBe(false);
    expect(first?.scheduleStatus.last).toBe('0001-01-01T00:00:00.000Z');
    expect(second?.scheduleStatus.last).toBe(first?.scheduleStatus.lastUpdated);
    expect(Date.parse(second?.scheduleStatus.next ?? '')).toBeGreaterThan(
      Date.parse(second?.scheduleStatus.last ?? ''),
    );
  });

  it('runs once at start-up with runOnStartup even when the schedule is far away', async () => {
    let runs = 0;
    const spec = quietly(() =>
      defineTimerFunction({
        name: 'auditOnStart',
        schedule: '0 0 0 1 1 *',
        runOnStartup: true,
        handler: async () => {
          runs += 1;
        },
      }),
    );
    host = await startTestHost([spec]);

    const started = host;
    await waitFor('the start-up run', () => started.invocations.byFunction.auditOnStart?.succeeded === 1);
    expect(runs).toBe(1);
  });

  it('never overlaps two runs of the same timer', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const firstRun = gate();
    const spec = quietly(() =>
      defineTimerFunction({
        name: 'slowAudit',
        schedule: '* * * * * *',
        handler: async () => {
          running += 1;
          maxRunning = Math.max(maxRunning, running);
          runs += 1;
          if (runs === 1) await firstRun.promise;
          running -= 1;
        },
      }),
    );
    host = await startTestHost([spec]);

    try {
      await waitFor('the first run', () => runs === 1);
      await new Promise((r) => setTimeout(r, 2500));
      expect(runs).toBe(1);
    } finally {
      firstRun.open();
    }
    await waitFor('later runs', () => runs >= 3);
    expect(maxRunning).toBe(1);
  });

  it('refuses to start when the schedule setting is missing, naming it', async () => {
    const spec = quietly(() =>
      defineTimerFunction({ name: 'unset', schedule: '%NOT_SET_ANYWHERE%', handler: async () => {} }),
    );
    const attempt = startTestHost([spec]);
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(/NOT_SET_ANYWHERE/);
  });
});
