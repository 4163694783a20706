import { ConfigError, describeError, InputError } from '../shared/errors.js';
import { type CliIo, type Command, ExitCode } from './CliIo.js';

const USAGE = `Usage: aks-panorama-sync <command> [options]

Commands:
  tags --cluster NAME [--selector NAME=SELECTOR]... [--include-label GLOB]... [--exclude-label GLOB]...
       [--namespace-tags] [--max-tags N] [--live] [FILE]
                      print the IP tags of a Kubernetes ServiceList (FILE or stdin) or, with --live,
                      of a configured cluster; "tags --help" says what each option does
  reconcile [--cluster NAME] [--dry-run] [--no-audit]
                      one full pass: recompute, push to Panorama, audit targets
  replay-poison [--dry-run]
                      move poison-queue messages back to their queues
  status              per cluster and target: last recompute, last push, queues, errors
  explain IP [--json] the Services, labels, selectors and tags behind an IP, and what each target holds
  dag EXPRESSION [--target SERIAL] [--json]
                      the IPs a PAN-OS Dynamic Address Group match selects (last-known state or read-back)
  dev                 the local host (Azurite, triggers, Event Grid webhook); the demo when unconfigured
  demo add|label|delete|list
                      change the running demo's simulated cluster; "demo --help" says how
`;

const commands: Record<string, () => Promise<Command>> = {
  tags: async () => (await import('./tagsCommand.js')).tagsCommand,
  reconcile: async () => (await import('./reconcileCommand.js')).reconcileCommand,
  status: async () => (await import('./statusCommand.js')).statusCommand,
  explain: async () => (await import('./explainCommand.js')).explainCommand,
  dag: async () => (await import('./dagCommand.js')).dagCommand,
  'replay-poison': async () => (await import('./replayPoisonCommand.js')).replayPoisonCommand,
  dev: async () => (await import('./devCommand.js')).devCommand,
  demo: async () => (await import('./demoCommand.js')).demoCommand,
};

/** Runs the command line; returns the process exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout)(USAGE);
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  const load = commands[name];
  if (!load) {
    io.stderr(`aks-panorama-sync: unknown command "${name}"\n\n${USAGE}`);
    return ExitCode.usage;
  }
  try {
    return await (await load())(args, io);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof InputError) {
      io.stderr(`aks-panorama-sync ${name}: ${err.message}\n`);
      return ExitCode.usage;
    }
    if ((err as { code?: unknown })?.code?.toString().startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`aks-panorama-sync ${name}: ${(err as Error).message}\n`);
      return ExitCode.usage;
    }
    io.stderr(`aks-panorama-sync ${name}: ${describeError(err)}\n`);
    return ExitCode.failed;
  }
}
