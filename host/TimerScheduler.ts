import type { Timer } from '@azure/functions';
import { Cron } from 'croner';
import type { Settings } from '../shared/config/localSettings.js';
import { ConfigError } from '../shared/errors.js';
import type { TimerFunctionSpec } from '../shared/functionSpecs.js';
import type { Logger } from '../shared/logger.js';
import type { Invoker } from './Invoker.js';
import { parseTimeSpan } from './loadHostSettings.js';

/** A parsed timer schedule. */
export interface TimerSchedule {
  /** The schedule as resolved (after `%SETTING%` substitution). */
  expression: string;
  /** The first occurrence strictly after `after`, or `null` when there is none. */
  next(after: Date): Date | null;
}

/**
 * Replaces every `%NAME%` in a binding expression with the app setting `NAME`, as the host does
 * for trigger properties. Throws a {@link ConfigError} naming each setting that is not set.
 */
export function resolveSettingExpression(expression: string, settings: Settings): string {
  const missing: string[] = [];
  const resolved = expression.replace(/%([^%]+)%/g, (_, name: string) => {
    const value = settings[name];
    if (value === undefined || value === '') {
      missing.push(name);
      return '';
    }
    return value;
  });
  if (missing.length > 0) {
    throw new ConfigError(missing.map((n) => `app setting ${n} (used in "${expression}") is not set`));
  }
  return resolved;
}

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Parses a timer schedule as the host does: an NCRONTAB expression with exactly six fields
 * (`{second} {minute} {hour} {day} {month} {day-of-week}`, UTC, day-of-month AND day-of-week both
 * applying), or a TimeSpan (`hh:mm:ss`, a fixed interval counted from start). Throws a
 * {@link ConfigError} for anything else.
 */
export function parseTimerSchedule(expression: string, functionName = 'timer'): TimerSchedule {
  const text = expression.trim();
  if (/^\d+(\.\d+)?:\d/.test(text) || /^\d{1,2}:\d{1,2}(:\d{1,2})?$/.test(text)) {
    const ms = parseTimeSpan(text);
    if (ms === undefined || ms <= 0) {
      throw new ConfigError([`function ${functionName}: schedule "${expression}" is not a valid TimeSpan`]);
    }
    const origin = Date.now();
    return {
      expression: text,
      next(after) {
        const n = Math.floor((after.getTime() - origin) / ms) + 1;
        return new Date(origin + Math.max(1, n) * ms);
      },
    };
  }
  const fields = text.split(/\s+/);
  if (fields.length !== 6) {
    throw new ConfigError([
      `function ${functionName}: schedule "${expression}" must be an NCRONTAB expression with six fields ` +
        '({second} {minute} {hour} {day} {month} {day-of-week})',
    ]);
  }
  let cron: Cron;
  try {
    cron = new Cron(text, { timezone: 'Etc/UTC', legacyMode: false, paused: true });
  } catch (err) {
    throw new ConfigError([
      `function ${functionName}: schedule "${expression}" is not a valid NCRONTAB expression (${(err as Error).message})`,
    ]);
  }
  return { expression: text, next: (after) => cron.nextRun(after) };
}

const NEVER = '0001-01-01T00:00:00.000Z';

/** Options of {@link TimerScheduler}. */
export interface TimerSchedulerOptions {
  spec: TimerFunctionSpec;
  settings: Settings;
  invoker: Invoker;
  logger: Logger;
}

/**
 * One timer trigger: resolves `%SETTING%` in the schedule, runs once at start when `runOnStartup`,
 * then at each occurrence. Runs never overlap: the next occurrence is computed after a run ends, so
 * occurrences that pass while a run is still going are skipped, as in the host's `TimerListener`.
 */
export class TimerScheduler {
  readonly schedule: TimerSchedule;
  readonly #o: TimerSchedulerOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopping = false;
  #last: string = NEVER;

  constructor(options: TimerSchedulerOptions) {
    this.#o = options;
    const expression = resolveSettingExpression(options.spec.schedule, options.settings);
    this.schedule = parseTimerSchedule(expression, options.spec.name);
  }

  /** Starts the schedule; runs the function at once first when `runOnStartup` is set. */
  start(): void {
    if (this.#o.spec.runOnStartup) {
      void this.runNow().then(() => this.#arm());
    } else {
      this.#arm();
    }
    const next = this.schedule.next(new Date());
    this.#o.logger.info('Timer scheduled', {
      function: this.#o.spec.name,
      schedule: this.schedule.expression,
      next: next?.toISOString(),
    });
  }

  /**
   * Runs the function now (unless a run is in progress, which is then awaited instead). Used for
   * `runOnStartup` and to trigger a timer by hand from the `dev` command.
   */
  async runNow(): Promise<void> {
    if (this.#running) return this.#running;
    if (this.#stopping) return;
    this.#running = this.#invoke(new Date()).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Cancels the schedule and waits for a run in progress. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #arm(from: Date = new Date()): void {
    if (this.#stopping) return;
    const next = this.schedule.next(from);
    if (!next) return;
    const wait = () => {
      if (this.#stopping) return;
      const remaining = next.getTime() - Date.now();
      if (remaining > 0) {
        this.#timer = setTimeout(wait, Math.min(remaining, MAX_TIMEOUT_MS));
        return;
      }
      this.#timer = undefined;
      void this.runNow().then(() => this.#arm(new Date(Math.max(Date.now(), next.getTime()))));
    };
    wait();
  }

  async #invoke(firedAt: Date): Promise<void> {
    const { spec, invoker } = this.#o;
    const next = this.schedule.next(firedAt);
    const timer: Timer = {
      isPastDue: false,
      schedule: { adjustForDST: true },
      scheduleStatus: {
        last: this.#last,
        next: next ? next.toISOString() : NEVER,
        lastUpdated: firedAt.toISOString(),
      },
    };
    this.#last = firedAt.toISOString();
    await invoker.invoke(spec, (context) => spec.handler(timer, context), {
      trigger: { type: 'timerTrigger', schedule: this.schedule.expression },
    });
  }
}
