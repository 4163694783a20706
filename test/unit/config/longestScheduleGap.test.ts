import { describe, expect, it } from 'vitest';
import { checkRefreshSchedule, loadConfig } from '../../../shared/config/loadConfig.js';
import { longestScheduleGapMinutes } from '../../../shared/config/longestScheduleGap.js';
import { ConfigError } from '../../../shared/errors.js';

describe('longestScheduleGapMinutes', () => {
  it.each([
    ['0 */5 * * * *', 5],
    ['*/30 * * * * *', 0.5],
    ['0 0 * * * *', 60],
    ['0 0,30 9-17 * * *', 15 * 60 + 30],
    ['0 0 3 * * *', 24 * 60],
    ['0 0 0 * * 1', 7 * 24 * 60],
    ['0 15 */6 * * *', 6 * 60],
  ])('%s waits up to %d minutes', (expression, minutes) => {
    expect(longestScheduleGapMinutes(expression)).toBeCloseTo(minutes, 6);
  });

  it('is undefined for what croner refuses', () => {
    expect(longestScheduleGapMinutes('0 */5 * *')).toBeUndefined();
  });
});

describe('RECONCILE_SCHEDULE with TAG_TIMEOUT_MINUTES', () => {
  const base = {
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    PANORAMA_URL: 'https://panorama.example.net',
    PANORAMA_API_KEY: 'key-123456',
    CLUSTERS: JSON.stringify([
      { name: 'aks-1', server: 'https://aks-1.example.net', auth: { type: 'token', token: 't' } },
    ]),
  };

  function problems(settings: Record<string, string>): readonly string[] {
    try {
      loadConfig({ ...base, ...settings });
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
  }

  it('refuses a timer that runs the audit less often than AUDIT_INTERVAL_MINUTES, naming both settings', () => {
    const found = problems({ TAG_TIMEOUT_MINUTES: '120', RECONCILE_SCHEDULE: '0 0 * * * *' });
    expect(found).toEqual([
      expect.stringMatching(/^RECONCILE_SCHEDULE: "0 0 \* \* \* \*" waits up to 60 minutes/),
    ]);
    expect(found[0]).toContain('AUDIT_INTERVAL_MINUTES (15)');
    expect(found[0]).toContain('TAG_TIMEOUT_MINUTES');
  });

  it('accepts the default schedule, a matching audit interval, and any schedule for persistent tags', () => {
    expect(problems({ TAG_TIMEOUT_MINUTES: '120' })).toEqual([]);
    expect(
      problems({
        TAG_TIMEOUT_MINUTES: '120',
        RECONCILE_SCHEDULE: '0 0 * * * *',
        AUDIT_INTERVAL_MINUTES: '60',
      }),
    ).toEqual([]);
    expect(problems({ RECONCILE_SCHEDULE: '0 0 3 * * *' })).toEqual([]);
  });

  it('says so when the schedule never fires', () => {
    expect(checkRefreshSchedule('0 0 0 30 2 *', 15)).toEqual([expect.stringContaining('never fires')]);
  });
});
