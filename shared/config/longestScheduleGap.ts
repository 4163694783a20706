import { Cron } from 'croner';

/** Where the sampling starts: a Monday 00:00 UTC, so weekly schedules are seen whole. */
const SAMPLE_FROM = Date.parse('2026-01-05T00:00:00Z');
const SAMPLE_DAYS = 8;
/** Consecutive firings followed (croner needs about 0.5 ms per step). */
const FOLLOWED_RUNS = 48;
/** Probes of the wait until the next firing, spread over {@link SAMPLE_DAYS}. */
const PROBES = 48;

/**
 * The longest wait, in minutes, between two firings of a six-field NCRONTAB schedule (UTC, as the
 * Functions host and `host/TimerScheduler.ts` read it), estimated cheaply at configuration time:
 * the gaps of the first {@link FOLLOWED_RUNS} firings from a Monday, and the wait to the next firing
 * from {@link PROBES} moments over eight days (which finds the long gap of a daily or weekly
 * schedule). `Infinity` when the schedule never fires; `undefined` when croner refuses it.
 */
export function longestScheduleGapMinutes(expression: string): number | undefined {
  let cron: Cron;
  try {
    cron = new Cron(expression, { timezone: 'Etc/UTC', legacyMode: false, paused: true });
  } catch {
    return undefined;
  }
  let longest = 0;
  let previous = new Date(SAMPLE_FROM);
  for (let i = 0; i < FOLLOWED_RUNS; i++) {
    const next = cron.nextRun(previous);
    if (!next) return i === 0 ? Number.POSITIVE_INFINITY : longest;
    if (i > 0) longest = Math.max(longest, next.getTime() - previous.getTime());
    previous = next;
  }
  const step = (SAMPLE_DAYS * 86_400_000) / PROBES;
  for (let i = 0; i < PROBES; i++) {
    const at = new Date(SAMPLE_FROM + i * step);
    const next = cron.nextRun(at);
    if (!next) return Number.POSITIVE_INFINITY;
    longest = Math.max(longest, next.getTime() - at.getTime());
  }
  return longest / 60_000;
}
