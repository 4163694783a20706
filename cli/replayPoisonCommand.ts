import { parseArgs } from 'node:util';
import { replayPoison } from '../shared/pipeline/replayPoison.js';
import { type Command, ExitCode } from './CliIo.js';
import { cliRuntime } from './cliRuntime.js';

const REPLAY_HELP = `Usage: aks-panorama-sync replay-poison [--dry-run]

Moves the messages of tag-deltas-poison and cluster-recompute-poison back to their queues, byte for
byte. Safe in any order and at any time: deltas are level-triggered.

  --dry-run    only count what would move
  -h, --help   this text
`;

/** What happens to replayed messages next: said plainly, since this command does not process them. */
const AFTER_REPLAY =
  'The Functions app processes the moved messages within seconds; "status" still counts them as pending until it has. ' +
  'Without a running app, "aks-panorama-sync reconcile" pushes them from here.\n';

/** `replay-poison [--dry-run]`: moves poison messages back to their queues and prints the counts. */
export const replayPoisonCommand: Command = async (args, io) => {
  const { values } = parseArgs({
    args,
    options: {
      'dry-run': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.stdout(REPLAY_HELP);
    return ExitCode.ok;
  }
  const { deps } = cliRuntime(io);
  const results = await replayPoison(deps.queues, { dryRun: values['dry-run'], logger: deps.logger });
  for (const r of results) {
    io.stdout(
      values['dry-run']
        ? `${r.poisonQueue}: ${r.found} messages would move back to ${r.queue}\n`
        : `${r.poisonQueue}: moved ${r.moved} messages back to ${r.queue}\n`,
    );
  }
  const moved = results.reduce((n, r) => n + r.moved, 0);
  if (moved > 0) io.stdout(AFTER_REPLAY);
  return ExitCode.ok;
};
