import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { QueueServiceClient } from '@azure/storage-queue';
import { effectiveSettings, type Settings } from '../shared/config/localSettings.js';
import { ConfigError, describeError } from '../shared/errors.js';
import { type FunctionSpec, STORAGE_CONNECTION } from '../shared/functionSpecs.js';
import { type Logger, prettyLogger, registerSecret } from '../shared/logger.js';
import { poisonQueueName } from '../shared/queues/queueNames.js';
import { type AzuriteServer, startAzurite } from './azurite.js';
import { type InvocationCounters, type InvocationRecord, Invoker } from './Invoker.js';
import { LocalHttpServer } from './LocalHttpServer.js';
import { loadFunctionSpecs } from './loadFunctionSpecs.js';
import { type HostSettings, type LoadHostSettingsOptions, loadHostSettings } from './loadHostSettings.js';
import { QueueListener } from './QueueListener.js';
import { TimerScheduler } from './TimerScheduler.js';

/** Default port of the Functions host (`func start`). */
export const DEFAULT_PORT = 7071;

/** Options of {@link startLocalHost}. Give `specs` or `functionsDir`. */
export interface LocalHostOptions {
  /** The functions to run (e.g. specs defined in a test). */
  specs?: readonly FunctionSpec[];
  /** A directory of compiled function modules (`dist/functions`) whose exported specs are run. */
  functionsDir?: string;
  /** App settings; default {@link effectiveSettings} (local.settings.json `Values` overlaid by the environment). */
  settings?: Settings;
  /** HTTP port on 127.0.0.1; default 7071, 0 = ephemeral. */
  port?: number;
  /** Host log; default a pretty logger on stderr. */
  logger?: Logger;
  /** host.json to read; default `./host.json` (all host defaults when absent). */
  hostJsonPath?: string;
  /** Overrides applied on top of host.json (`functionTimeoutMs`, `queues.*`). */
  hostSettings?: { functionTimeoutMs?: number; queues?: Partial<HostSettings['queues']> };
  /** Passed to `loadHostSettings` (Development defaults, processor count). */
  hostSettingsOptions?: LoadHostSettingsOptions;
  /**
   * Write the effective settings (including an Azurite connection string started here) into
   * `process.env` for keys not already set, as Core Tools does for the worker; restored on stop().
   * Set it when the function modules read their configuration from the environment. Default false.
   */
  exportSettingsToEnv?: boolean;
  /** Called after every invocation (all triggers). */
  onInvocation?: (record: InvocationRecord) => void;
  /**
   * Called once storage is known and the settings are exported, before any trigger can fire: the
   * place to install what the functions use (`setRuntime` in `shared/runtime/createRuntime.ts`,
   * with `nudge` as its queues' `onEnqueue`). A throw stops the start-up and cleans up.
   */
  beforeStart?: (
    host: Pick<LocalHost, 'settings' | 'storageConnectionString' | 'nudge'>,
  ) => void | Promise<void>;
}

/** A running local host. */
export interface LocalHost {
  /** Base URL of the HTTP server, e.g. `http://127.0.0.1:7071`. */
  url: string;
  /** The key accepted for `authLevel: 'function'` HTTP functions (`x-functions-key` or `?code=`). */
  functionKey: string;
  /** The key accepted for `function` and `admin` HTTP functions. */
  masterKey: string;
  /** The storage connection string the queue triggers use (Azurite's when started here). */
  storageConnectionString: string;
  /** The settings in effect, including `AzureWebJobsStorage`. */
  settings: Settings;
  /** The host.json settings in effect. */
  hostSettings: HostSettings;
  /** The functions being run. */
  specs: readonly FunctionSpec[];
  /** Live invocation counters. */
  invocations: InvocationCounters;
  /** Wakes the listeners of `queueName` from their idle backoff (call it after enqueueing in-process). */
  nudge(queueName: string): void;
  /** Runs a timer function now (no overlap with a scheduled run). */
  runTimer(functionName: string): Promise<void>;
  /** Stops listeners, timers and the HTTP server, waits for in-flight invocations, stops Azurite if started here. */
  stop(): Promise<void>;
}

function newKey(): string {
  return randomBytes(32).toString('base64url');
}

/** Clean-up steps, run once in reverse order; a failing step is logged and the others still run. */
class Cleanups {
  readonly #steps: (() => Promise<void> | void)[] = [];
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  add(step: () => Promise<void> | void): void {
    this.#steps.push(step);
  }

  async run(): Promise<void> {
    for (const step of this.#steps.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        this.#logger.warn('Local host cleanup step failed', { error: describeError(err) });
      }
    }
  }
}

/** host.json (or the host defaults) with the caller's overrides. */
function resolveHostSettings(options: LocalHostOptions, logger: Logger): HostSettings {
  const hostJsonPath = options.hostJsonPath ?? join(process.cwd(), 'host.json');
  const loaded = loadHostSettings(hostJsonPath, options.hostSettingsOptions);
  if (!existsSync(hostJsonPath))
    logger.warn('host.json not found; using the host defaults', { path: hostJsonPath });
  return {
    functionTimeoutMs: options.hostSettings?.functionTimeoutMs ?? loaded.functionTimeoutMs,
    queues: { ...loaded.queues, ...options.hostSettings?.queues },
  };
}

/** The storage connection string: `AzureWebJobsStorage`, or an Azurite started here (stopped on cleanup). */
async function ensureStorage(settings: Settings, logger: Logger, cleanups: Cleanups): Promise<string> {
  const configured = settings[STORAGE_CONNECTION];
  if (configured) return configured;
  logger.info('AzureWebJobsStorage is not set; starting Azurite');
  const azurite: AzuriteServer = await startAzurite();
  cleanups.add(() => azurite.stop());
  settings[STORAGE_CONNECTION] = azurite.connectionString;
  logger.info('Azurite started', {
    pid: azurite.pid,
    queuePort: azurite.queuePort,
    tablePort: azurite.tablePort,
  });
  return azurite.connectionString;
}

/** Writes settings into `process.env` for keys not already set; removed again on cleanup. */
function exportSettings(settings: Settings, cleanups: Cleanups): void {
  const added: string[] = [];
  for (const [k, v] of Object.entries(settings)) {
    if (v !== undefined && process.env[k] === undefined) {
      process.env[k] = v;
      added.push(k);
    }
  }
  cleanups.add(() => {
    for (const k of added) delete process.env[k];
  });
}

/** One {@link QueueListener} per queue function; `nudge` wakes the listeners of a queue. */
function createQueueListeners(
  specs: readonly FunctionSpec[],
  context: { connectionString: string; hostSettings: HostSettings; invoker: Invoker; logger: Logger },
): { listeners: QueueListener[]; nudge: (queueName: string) => void } {
  const listeners: QueueListener[] = [];
  const nudge = (queueName: string) => {
    for (const l of listeners) if (l.queueName === queueName) l.nudge();
  };
  const queueSpecs = specs.filter((s) => s.kind === 'queue');
  if (queueSpecs.length === 0) return { listeners, nudge };
  const service = QueueServiceClient.fromConnectionString(context.connectionString);
  for (const spec of queueSpecs) {
    listeners.push(
      new QueueListener({
        spec,
        queue: service.getQueueClient(spec.queueName),
        poisonQueue: service.getQueueClient(poisonQueueName(spec.queueName)),
        settings: context.hostSettings.queues,
        invoker: context.invoker,
        logger: context.logger,
        onPoisonMessage: nudge,
      }),
    );
  }
  return { listeners, nudge };
}

/** One {@link TimerScheduler} per timer function, by lower-case function name. */
function createTimers(
  specs: readonly FunctionSpec[],
  context: { settings: Settings; invoker: Invoker; logger: Logger },
): Map<string, TimerScheduler> {
  const timers = new Map<string, TimerScheduler>();
  for (const spec of specs) {
    if (spec.kind === 'timer') timers.set(spec.name.toLowerCase(), new TimerScheduler({ spec, ...context }));
  }
  return timers;
}

function logStarted(
  logger: Logger,
  url: string,
  specs: readonly FunctionSpec[],
  hostSettings: HostSettings,
  functionKey: string,
): void {
  logger.info('Local Functions host started', {
    url,
    functions: specs.length,
    batchSize: hostSettings.queues.batchSize,
    newBatchThreshold: hostSettings.queues.newBatchThreshold,
    maxDequeueCount: hostSettings.queues.maxDequeueCount,
  });
  for (const spec of specs) logger.info(`  ${describeSpec(spec, url)}`);
  if (specs.some((s) => s.kind === 'http' && s.authLevel === 'function')) {
    logger.info(`Function key (x-functions-key header or ?code=): ${functionKey}`);
  }
}

/** What {@link startServing} starts: the HTTP server, the timers and the queue listeners. */
interface HostParts {
  options: LocalHostOptions;
  specs: readonly FunctionSpec[];
  invoker: Invoker;
  timers: Map<string, TimerScheduler>;
  listeners: QueueListener[];
  cleanups: Cleanups;
  logger: Logger;
}

/** Starts serving: the HTTP server, then the timers, then the listeners (stopped in reverse). Returns the URL. */
async function startServing(
  parts: HostParts,
  keys: { functionKey: string; masterKey: string },
): Promise<string> {
  const { specs, invoker, timers, listeners, cleanups, logger } = parts;
  cleanups.add(() => invoker.drain());
  const server = new LocalHttpServer({ specs, invoker, logger, keys });
  const url = await server.listen(parts.options.port ?? DEFAULT_PORT);
  cleanups.add(() => server.close());
  for (const t of timers.values()) t.start();
  cleanups.add(() => Promise.all([...timers.values()].map((t) => t.stop())).then(() => undefined));
  for (const l of listeners) l.start();
  cleanups.add(() => Promise.all(listeners.map((l) => l.stop())).then(() => undefined));
  return url;
}

/** `runTimer` and `stop` of a running host. */
function hostControls(
  timers: Map<string, TimerScheduler>,
  invoker: Invoker,
  cleanups: Cleanups,
  logger: Logger,
): Pick<LocalHost, 'invocations' | 'runTimer' | 'stop'> {
  let stopping: Promise<void> | undefined;
  return {
    invocations: invoker.counters,
    async runTimer(functionName) {
      const timer = timers.get(functionName.toLowerCase());
      if (!timer) throw new ConfigError([`no timer function named ${functionName}`]);
      await timer.runNow();
    },
    stop() {
      stopping ??= (async () => {
        logger.info('Stopping the local Functions host');
        await cleanups.run();
        logger.info('Local Functions host stopped', { ...invoker.counters, byFunction: undefined });
      })();
      return stopping;
    },
  };
}

/**
 * Starts the local Functions host: loads the specs, starts Azurite when `AzureWebJobsStorage` is not
 * set, a {@link QueueListener} per queue function, a {@link TimerScheduler} per timer function and
 * the {@link LocalHttpServer} (Event Grid webhook, HTTP functions). Signal handling is the caller's:
 * call `stop()` on SIGINT/SIGTERM.
 *
 * @example
 * const host = await startLocalHost({ functionsDir: 'dist/functions', port: 7071, exportSettingsToEnv: true });
 * process.once('SIGINT', () => void host.stop());
 */
export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  if (!options.specs && !options.functionsDir) {
    throw new ConfigError(['startLocalHost: give either specs or functionsDir']);
  }
  const logger = options.logger ?? prettyLogger('info');
  const hostSettings = resolveHostSettings(options, logger);
  const settings: Settings = { ...(options.settings ?? effectiveSettings()) };
  const cleanups = new Cleanups(logger);
  try {
    const storageConnectionString = await ensureStorage(settings, logger, cleanups);
    if (options.exportSettingsToEnv) exportSettings(settings, cleanups);
    const specs = await loadFunctionSpecs(options.specs ?? (options.functionsDir as string));
    const functionKey = settings.LOCAL_FUNCTION_KEY || newKey();
    const masterKey = settings.LOCAL_MASTER_KEY || newKey();
    registerSecret(masterKey);
    const invoker = new Invoker({
      logger,
      functionTimeoutMs: hostSettings.functionTimeoutMs,
      ...(options.onInvocation ? { onInvocation: options.onInvocation } : {}),
    });
    const timers = createTimers(specs, { settings, invoker, logger });
    const { listeners, nudge } = createQueueListeners(specs, {
      connectionString: storageConnectionString,
      hostSettings,
      invoker,
      logger,
    });
    await options.beforeStart?.({ settings, storageConnectionString, nudge });
    const url = await startServing(
      { options, specs, invoker, timers, listeners, cleanups, logger },
      {
        functionKey,
        masterKey,
      },
    );
    logStarted(logger, url, specs, hostSettings, functionKey);
    const base = {
      url,
      functionKey,
      masterKey,
      storageConnectionString,
      settings,
      hostSettings,
      specs,
      nudge,
    };
    return { ...base, ...hostControls(timers, invoker, cleanups, logger) };
  } catch (err) {
    await cleanups.run();
    throw err;
  }
}

function describeSpec(spec: FunctionSpec, url: string): string {
  switch (spec.kind) {
    case 'queue':
      return `${spec.name}: queueTrigger (${spec.queueName})`;
    case 'timer':
      return `${spec.name}: timerTrigger (${spec.schedule}${spec.runOnStartup ? ', runOnStartup' : ''})`;
    case 'eventGrid':
      return `${spec.name}: eventGridTrigger  POST ${url}/runtime/webhooks/eventgrid?functionName=${spec.name}`;
    case 'http':
      return `${spec.name}: [${spec.methods.join(',')}] ${url}/api/${spec.route} (${spec.authLevel})`;
  }
}
