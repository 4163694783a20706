import { randomUUID } from 'node:crypto';
import { format } from 'node:util';
import type { LogLevel as FunctionsLogLevel, InvocationContext, TriggerMetadata } from '@azure/functions';
import azureFunctions from '@azure/functions';
import { describeError } from '../shared/errors.js';
import type { FunctionSpec } from '../shared/functionSpecs.js';
import type { LogFields, Logger } from '../shared/logger.js';

/** How one invocation ended. */
export type InvocationOutcome = 'succeeded' | 'failed';

/** One finished invocation, as logged and passed to `onInvocation`. */
export interface InvocationRecord {
  functionName: string;
  trigger: FunctionSpec['kind'];
  invocationId: string;
  outcome: InvocationOutcome;
  durationMs: number;
  /** Queue triggers only. */
  dequeueCount?: number;
  error?: string;
}

/** Per-function invocation counts. */
export interface FunctionCounters {
  succeeded: number;
  failed: number;
  /** Queue messages this function's queue moved to `<queue>-poison`. */
  poisoned: number;
}

/** Live invocation counters of a local host (read them at any time; they only grow, except `inFlight`). */
export interface InvocationCounters {
  started: number;
  succeeded: number;
  failed: number;
  poisoned: number;
  inFlight: number;
  byFunction: Record<string, FunctionCounters>;
}

/** What an invocation returned: the handler's value, or the error it threw (or the timeout). */
export type InvocationResult<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** What a trigger adds to one invocation (see {@link Invoker.invoke}). */
export interface InvocationDetails {
  triggerMetadata?: TriggerMetadata;
  trigger?: Record<string, unknown>;
  dequeueCount?: number;
  /** Extra fields of the outcome log line. */
  fields?: LogFields;
}

/** Options of {@link Invoker}. */
export interface InvokerOptions {
  logger: Logger;
  /** `functionTimeout` of host.json: a longer invocation counts as failed (the handler cannot be cancelled). */
  functionTimeoutMs: number;
  onInvocation?: (record: InvocationRecord) => void;
}

const LEVELS: Record<FunctionsLogLevel, keyof Logger | undefined> = {
  trace: 'debug',
  debug: 'debug',
  information: 'info',
  warning: 'warn',
  error: 'error',
  critical: 'error',
  none: undefined,
};

function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/**
 * Runs `call` (from a microtask) against the `functionTimeout`: a call still running after
 * `timeoutMs` ends as failed with the host's timeout message. Never throws.
 */
async function runWithTimeout<T>(
  call: () => Promise<T>,
  timeoutMs: number,
  functionName: string,
): Promise<InvocationResult<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `Timeout value of ${formatDuration(timeoutMs)} was exceeded by function: ${functionName}`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    const value = await Promise.race([Promise.resolve().then(call), timeout]);
    return { ok: true, value };
  } catch (error) {
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

function invocationRecord(
  spec: FunctionSpec,
  invocationId: string,
  durationMs: number,
  result: InvocationResult<unknown>,
  dequeueCount: number | undefined,
): InvocationRecord {
  return {
    functionName: spec.name,
    trigger: spec.kind,
    invocationId,
    outcome: result.ok ? 'succeeded' : 'failed',
    durationMs,
    ...(dequeueCount === undefined ? {} : { dequeueCount }),
    ...(result.ok ? {} : { error: describeError(result.error) }),
  };
}

/** The fields of the outcome line: the record's, with the trigger's own `extra` fields before `durationMs`. */
function outcomeLogFields(record: InvocationRecord, extra: LogFields | undefined): LogFields {
  const { functionName, trigger, invocationId, dequeueCount, durationMs, error } = record;
  return {
    function: functionName,
    trigger,
    invocationId,
    ...(dequeueCount === undefined ? {} : { dequeueCount }),
    ...extra,
    durationMs,
    ...(error === undefined ? {} : { error }),
  };
}

/**
 * Runs handlers the way the host's executor does: a fresh {@link InvocationContext} per invocation
 * whose `context.log/warn/error` go to the host logger with the function name and invocation id, the
 * `functionTimeout`, one outcome line per invocation, and the counters.
 */
export class Invoker {
  readonly counters: InvocationCounters = {
    started: 0,
    succeeded: 0,
    failed: 0,
    poisoned: 0,
    inFlight: 0,
    byFunction: {},
  };
  readonly #options: InvokerOptions;
  readonly #running = new Set<Promise<unknown>>();

  constructor(options: InvokerOptions) {
    this.#options = options;
  }

  /** Counters of one function (created on first use). */
  functionCounters(name: string): FunctionCounters {
    let c = this.counters.byFunction[name];
    if (!c) {
      c = { succeeded: 0, failed: 0, poisoned: 0 };
      this.counters.byFunction[name] = c;
    }
    return c;
  }

  /** Counts a message moved to a poison queue by `functionName`'s queue listener. */
  countPoisoned(functionName: string): void {
    this.counters.poisoned += 1;
    this.functionCounters(functionName).poisoned += 1;
  }

  /** Builds the InvocationContext of one invocation. */
  createContext(
    spec: FunctionSpec,
    invocationId: string,
    triggerMetadata: TriggerMetadata | undefined,
    trigger: Record<string, unknown>,
  ): InvocationContext {
    const fields: LogFields = { function: spec.name, invocationId };
    const logger = this.#options.logger;
    return new azureFunctions.InvocationContext({
      invocationId,
      functionName: spec.name,
      ...(triggerMetadata ? { triggerMetadata } : {}),
      options: { trigger: { name: 'trigger', type: 'unknown', ...trigger } },
      logHandler: (level, ...args) => {
        const method = LEVELS[level];
        if (method) logger[method](format(...args), fields);
      },
    });
  }

  /**
   * Invokes `call` with a new context, logs the outcome (`function`, `trigger`, `invocationId`,
   * `dequeueCount`, `durationMs`, `error`) and updates the counters. Never throws.
   */
  async invoke<T>(
    spec: FunctionSpec,
    call: (context: InvocationContext) => Promise<T>,
    details: InvocationDetails = {},
  ): Promise<InvocationResult<T>> {
    const invocationId = randomUUID();
    const context = this.createContext(spec, invocationId, details.triggerMetadata, details.trigger ?? {});
    this.#countStarted(spec.name);
    const started = performance.now();
    const run = runWithTimeout(() => call(context), this.#options.functionTimeoutMs, spec.name);
    this.#running.add(run);
    const result = await run;
    this.#running.delete(run);
    this.counters.inFlight -= 1;
    const durationMs = Math.round(performance.now() - started);
    const record = invocationRecord(spec, invocationId, durationMs, result, details.dequeueCount);
    this.#countAndLogOutcome(record, outcomeLogFields(record, details.fields));
    this.#notifyListener(record);
    return result;
  }

  #countStarted(functionName: string): void {
    this.functionCounters(functionName);
    this.counters.started += 1;
    this.counters.inFlight += 1;
  }

  #countAndLogOutcome(record: InvocationRecord, fields: LogFields): void {
    const counters = this.functionCounters(record.functionName);
    if (record.outcome === 'succeeded') {
      this.counters.succeeded += 1;
      counters.succeeded += 1;
      this.#options.logger.info('Executed function (Succeeded)', fields);
    } else {
      this.counters.failed += 1;
      counters.failed += 1;
      this.#options.logger.error('Executed function (Failed)', fields);
    }
  }

  #notifyListener(record: InvocationRecord): void {
    try {
      this.#options.onInvocation?.(record);
    } catch (err) {
      this.#options.logger.warn('onInvocation listener threw', { error: describeError(err) });
    }
  }

  /** Resolves once every invocation started so far has finished (or timed out). */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }
}
