import { describe, expect, it } from 'vitest';
import { parseTimerSchedule, resolveSettingExpression } from '../../../host/TimerScheduler.js';
import { ConfigError } from '../../../shared/errors.js';

describe('resolveSettingExpression', () => {
  it('replaces %NAME% with the app setting', () => {
    expect(resolveSettingExpression('%RECONCILE_SCHEDULE%', { RECONCILE_SCHEDULE: '0 */5 * * * *' })).toBe(
      '0 */5 * * * *',
    );
    expect(resolveSettingExpression('0 0 * * * *', {})).toBe('0 0 * * * *');
  });

  it('names every setting that is missing', () => {
    expect(() => resolveSettingExpression('%A% %B%', { A: 'x' })).toThrow(ConfigError);
    expect(() => resolveSettingExpression('%A% %B%', { A: 'x' })).toThrow(/app setting B/);
  });
});

describe('parseTimerSchedule', () => {
  const from = new Date('2026-11-27T12:03:17.400Z');

  it('reads six-field NCRONTAB in UTC, seconds first', () => {
    const every5 = parseTimerSchedule('0 */5 * * * *');
    expect(every5.next(from)?.toISOString()).toBe('2026-11-27T12:05:00.000Z');
    const daily = parseTimerSchedule('30 15 2 * * *');
    expect(daily.next(from)?.toISOString()).toBe('2026-11-28T02:15:30.000Z');
  });

  it('requires both day-of-month and day-of-week to match, as NCRONTAB does', () => {
    const friday13 = parseTimerSchedule('0 0 0 13 * 5');
    expect(friday13.next(from)?.toISOString()).toBe('2027-08-13T00:00:00.000Z');
  });

  it('reads a TimeSpan schedule as a fixed interval', () => {
    const schedule = parseTimerSchedule('00:00:10');
    const now = new Date();
    const next = schedule.next(now);
    expect(next && next.getTime() - now.getTime()).toBeGreaterThan(0);
    expect(next && next.getTime() - now.getTime()).toBeLessThanOrEqual(10_000);
  });

  it.each(['*/5 * * * *', 'every five minutes', '0 0 0 32 * *'])('rejects %j', (expression) => {
    expect(() => parseTimerSchedule(expression, 'reconcile')).toThrow(ConfigError);
  });
});
