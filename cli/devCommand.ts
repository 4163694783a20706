import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkPortFree } from '../host/checkPortFree.js';
import type { InvocationRecord } from '../host/Invoker.js';
import {
  DEMO,
  type Demo,
  demoHostname,
  demoLoadBalancerEvent,
  describeFirewalls,
  startDemoBackends,
  writeDemoSettingsFile,
} from '../host/startDemo.js';
import { type LocalHost, startLocalHost } from '../host/startLocalHost.js';
import { DEFAULT_RECONCILE_SCHEDULE, loadConfig } from '../shared/config/loadConfig.js';
import {
  DEMO_SETTINGS_FILE,
  effectiveSettings,
  isConfigured,
  type Settings,
} from '../shared/config/localSettings.js';
import { InputError } from '../shared/errors.js';
import { type Logger, prettyLogger } from '../shared/logger.js';
import { createRuntime, setRuntime } from '../shared/runtime/createRuntime.js';
import { type ArmResourceEvent, postEventGridEvents } from '../sim/eventGrid/armResourceEvent.js';
import { makeService } from '../sim/kubernetes/makeService.js';
import { type Command, ExitCode } from './CliIo.js';

const FUNCTIONS_DIR = fileURLToPath(new URL('../functions', import.meta.url));
const CLI_BIN = fileURLToPath(new URL('../bin/aks-panorama-sync.js', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Posts one event to the local host's Event Grid webhook. */
function postEvent(host: LocalHost, event: ArmResourceEvent): Promise<void> {
  return postEventGridEvents(host.url, 'onResourceEvent', [event]);
}

/** Waits about 12 s (unless stopped), then makes one change and posts the Event Grid event for it. */
async function demoStep(
  host: LocalHost,
  say: (text: string) => void,
  stopped: () => boolean,
  step: { title: string; change: () => void },
): Promise<void> {
  for (let i = 0; i < 24 && !stopped(); i++) await sleep(500);
  if (stopped()) return;
  say(`\n▶ ${step.title}`);
  step.change();
  await postEvent(host, demoLoadBalancerEvent());
  say('  posted a Microsoft.Network/loadBalancers/write event to the Event Grid webhook');
}

/** How to drive the running demo: the CLI against it, the `demo` commands, the demo-only credentials. */
function sayHowToDrive(
  host: LocalHost,
  demo: Demo,
  where: { cwd: string; configured: boolean },
  say: (text: string) => void,
): void {
  const row = ([command, what]: readonly [string, string]) => `  ${command.padEnd(44)} ${what}`;
  const cli: [string, string][] = [
    ['aps status', 'per cluster and target'],
    [`aps status --target ${demoHostname(DEMO.firewalls[0])}`, 'what that firewall holds now'],
    [`aps tags --cluster ${DEMO.cluster} --live -v`, 'the tags of the cluster, and what is skipped'],
    [`aps dag "'aks.${DEMO.cluster}.svc.app.web'"`, 'the IPs a DAG match selects'],
    ['aps explain 10.240.0.10', 'why an IP has its tags'],
    ['aps reconcile --dry-run', 'what a full pass would change'],
  ];
  const changes: [string, string][] = [
    ['aps demo add shop/orders --ip 10.240.0.30 --label app=web --label tier=front', ''],
    ['aps demo label shop/orders tier=edge', '(tier- removes the label)'],
    ['aps demo delete shop/orders', ''],
    ['aps demo list', 'the Services, IPs and labels'],
  ];
  say(
    [
      `\nDrive the demo from another terminal, in ${where.cwd}: the CLI reads ${DEMO_SETTINGS_FILE},`,
      where.configured
        ? 'written there for this run (mode 0600, removed when the demo stops), but only the demo commands use it here: the environment or local.settings.json configures the app, and the other commands use that configuration.'
        : 'written there for this run (mode 0600, removed when the demo stops), so every command works against it.',
      `  alias aps='node ${CLI_BIN}'`,
      ...cli.map(row),
      'Change the simulated cluster (each change posts the load balancer event AKS would raise):',
      ...changes.map((c) => row(c).trimEnd()),
      `Status page: ${host.url}/api/status?code=${host.functionKey}`,
      'Demo-only credentials (random for this run, accepted only by these local simulators):',
      `  Kubernetes API simulator ${demo.kube.url}  bearer token ${demo.kube.token}`,
      `  Panorama simulator       ${demo.panorama.url}  API key ${demo.panorama.apiKey}`,
    ].join('\n'),
  );
}

function sayHowToPostEvents(host: LocalHost, say: (text: string) => void): void {
  say(
    '\nThe story is done; the host keeps running (reconcile every 30 s, audit every minute). Change the\n' +
      'cluster with "aps demo add|label|delete" (above), or post an event yourself:\n' +
      `  curl -s -X POST '${host.url}/runtime/webhooks/eventgrid?functionName=onResourceEvent' \\\n` +
      `    -H 'aeg-event-type: Notification' -H 'content-type: application/json' \\\n` +
      `    -d '${JSON.stringify([demoLoadBalancerEvent()])}'\n` +
      `  curl -s '${host.url}/api/status?code=${host.functionKey}'\n` +
      'Press Ctrl-C to stop.',
  );
}

async function runDemoStory(
  host: LocalHost,
  demo: Demo,
  say: (text: string) => void,
  stopped: () => boolean,
) {
  const step = (title: string, change: () => void) => demoStep(host, say, stopped, { title, change });
  await host.runTimer('reconcileTimer');
  await step('a team ships a new internal Service: search.shop at 10.240.0.20', () => {
    demo.kube.addService(
      makeService({
        namespace: 'shop',
        name: 'search',
        ips: ['10.240.0.20'],
        labels: { app: 'web', tier: 'front' },
      }),
    );
  });
  await step('checkout is relabelled tier=edge (no longer matches the "web" selector)', () => {
    demo.kube.setLabels('shop', 'checkout', { app: 'web', tier: 'edge' });
  });
  await step('cart is deleted', () => {
    demo.kube.deleteService('shop', 'cart');
  });
  if (!stopped()) sayHowToPostEvents(host, say);
}

/** The `dev` options, with `--port` checked. */
const DEV_HELP = `Usage: aks-panorama-sync dev [--port N] [--demo] [--verbose]

The local Functions host (what "npm start" runs): Azurite (unless AzureWebJobsStorage is set), the
queue triggers with host.json's semantics, the timer, the Event Grid webhook and the HTTP functions.
Without PANORAMA_URL, CLUSTERS or discovery settings it runs the built-in demo against simulators.

  --port N       HTTP port on 127.0.0.1 (default 7071; 0 = any free port)
  --demo         run the demo even when a configuration is present
  -v, --verbose  debug logs
  -h, --help     this text

Ctrl-C stops everything it started.
`;

function parseDevArgs(args: string[]): { port: number; demo: boolean; verbose: boolean; help: boolean } {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string', default: '7071' },
      demo: { type: 'boolean', default: false },
      verbose: { type: 'boolean', short: 'v', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InputError(`--port: not a port number: ${values.port}`);
  return { port, demo: values.demo, verbose: values.verbose, help: values.help };
}

/** Ctrl-C / SIGTERM while `dev` runs: `stopped` resolves on the first one. */
interface StopSignals {
  readonly stopped: Promise<void>;
  readonly isStopping: () => boolean;
  /** Marks the command as stopping and removes the signal handlers. */
  release(): void;
}

/**
 * Handles Ctrl-C / SIGTERM from the start: a signal that arrives while Azurite and the simulators
 * are starting must not kill this process by default and orphan them; start-up finishes, then
 * everything is stopped.
 */
function handleStopSignals(say: (text: string) => void): StopSignals {
  let stopping = false;
  let requestStop!: () => void;
  const stopped = new Promise<void>((resolve) => {
    requestStop = resolve;
  });
  const stop = () => {
    if (stopping) say('Still stopping (Azurite and the simulators are shut down cleanly)…');
    stopping = true;
    requestStop();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return {
    stopped,
    isStopping: () => stopping,
    release() {
      stopping = true;
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}

async function startDemoWithBanner(say: (text: string) => void): Promise<Demo> {
  say('aks-panorama-sync demo: no configuration found, so the service runs against built-in simulators.');
  const demo = await startDemoBackends();
  say(
    `  Panorama simulator   ${demo.panorama.url} (device group ${DEMO.deviceGroup}: ${DEMO.firewalls.join(', ')})`,
  );
  say(`  AKS cluster          ${DEMO.cluster}, Kubernetes API simulator ${demo.kube.url}`);
  say(
    '  A person already tagged 10.240.0.10 with owner.netsec-team on the first firewall: it stays untouched.',
  );
  return demo;
}

/**
 * Writes the settings file the CLI uses to reach this demo; the storage connection string only
 * when it is the Azurite started here (a user's own storage setting is never copied to a file).
 */
function writeDemoFile(cwd: string, host: LocalHost, demo: Demo, ownStorage: boolean): () => void {
  return writeDemoSettingsFile(cwd, {
    hostUrl: host.url,
    functionKey: host.functionKey,
    Values: {
      ...demo.settings,
      ...(ownStorage ? { AzureWebJobsStorage: host.storageConnectionString } : {}),
    },
  });
}

/** Prints the demo firewalls' tags 400 ms after the last of a run of successful `pushTagDeltas`. */
function reportFirewallTags(
  demo: Demo,
  say: (text: string) => void,
  isStopping: () => boolean,
): (record: InvocationRecord) => void {
  let pushes = 0;
  return (record) => {
    if (record.functionName !== 'pushTagDeltas' || record.outcome !== 'succeeded') return;
    const n = ++pushes;
    setTimeout(() => {
      if (n === pushes && !isStopping())
        say(`\nTags on the firewalls now:\n${describeFirewalls(demo.panorama)}`);
    }, 400);
  };
}

interface DevHostOptions {
  settings: Settings;
  port: number;
  logger: Logger;
  demo: Demo | undefined;
  say: (text: string) => void;
  isStopping: () => boolean;
}

/** Starts the local host with the functions' runtime and, in the demo, the firewall tag reports. */
function startDevHost({ settings, port, logger, demo, say, isStopping }: DevHostOptions): Promise<LocalHost> {
  return startLocalHost({
    functionsDir: FUNCTIONS_DIR,
    settings,
    port,
    logger,
    exportSettingsToEnv: true,
    // The functions' runtime, wired before any trigger fires: sends wake the listeners at once.
    beforeStart: ({ settings: effective, nudge }) =>
      setRuntime(createRuntime(loadConfig(effective), { logger }, { onEnqueue: nudge })),
    ...(demo ? { onInvocation: reportFirewallTags(demo, say, isStopping) } : {}),
  });
}

/**
 * `dev [--port N] [--demo] [--verbose]`: the local Functions host (Azurite, queue triggers with the
 * host.json semantics, the timer, the Event Grid webhook, the HTTP functions). Without any
 * configuration (no PANORAMA_URL, CLUSTERS or discovery settings) it runs the embedded demo against
 * built-in Panorama and AKS simulators. Ctrl-C stops everything it started.
 */
export const devCommand: Command = async (args, io) => {
  const options = parseDevArgs(args);
  if (options.help) {
    io.stdout(DEV_HELP);
    return ExitCode.ok;
  }
  await checkPortFree(options.port);
  const settings = effectiveSettings(io.env, io.cwd);
  const configured = isConfigured(settings);
  const say = (text: string) => io.stdout(`${text}\n`);
  const logger = prettyLogger(options.verbose ? 'debug' : 'info', io.stderr);
  let demo: Demo | undefined;
  let host: LocalHost | undefined;
  let removeDemoFile: (() => void) | undefined;
  const signals = handleStopSignals(say);
  const { isStopping } = signals;
  try {
    if (options.demo || !configured) {
      demo = await startDemoWithBanner(say);
      Object.assign(settings, demo.settings);
    }
    settings.RECONCILE_SCHEDULE ||= DEFAULT_RECONCILE_SCHEDULE;
    const ownStorage = !settings.AzureWebJobsStorage;
    if (!ownStorage) loadConfig(settings);
    host = await startDevHost({ settings, port: options.port, logger, demo, say, isStopping });
    if (demo && !isStopping()) {
      removeDemoFile = writeDemoFile(io.cwd, host, demo, ownStorage);
      sayHowToDrive(host, demo, { cwd: io.cwd, configured }, say);
      say(`\nThe local Functions host runs at ${host.url}. Watch the tags arrive:`);
      void runDemoStory(host, demo, say, isStopping).catch((err) => say(`demo step failed: ${String(err)}`));
    }
    await signals.stopped;
    say('\nStopping…');
    return ExitCode.ok;
  } finally {
    signals.release();
    removeDemoFile?.();
    await host?.stop();
    setRuntime(undefined);
    await demo?.stop();
  }
};
