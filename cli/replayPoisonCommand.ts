import { parseArgs } from 'node:util';
import { replayPoison } from '../shared/pipeline/replayPoison.js';
import { type Command, ExitCode } from './CliIo.js';
import { cliRuntime } from './cliRuntime.js';

/** `replay-poison [--dry-run]`: moves poison messages back to their queues and prints the counts. */
export const replayPoisonCommand: Command = async (args, io) => {
  const { values } = parseArgs({ args, options: { 'dry-run': { type: 'boolean', default: false } } });
  const { deps } = cliRuntime(io);
  const results = await replayPoison(deps.queues, { dryRun: values['dry-run'], logger: deps.logger });
  for (const r of results) {
    io.stdout(
      values['dry-run']
        ? `${r.poisonQueue}: ${r.found} messages would move back to ${r.queue}\n`
        : `${r.poisonQueue}: moved ${r.moved} messages back to ${r.queue}\n`,
    );
  }
  return ExitCode.ok;
};
