import { parseArgs } from 'node:util';
import { collectStatus, formatStatus } from '../shared/pipeline/collectStatus.js';
import { type Command, ExitCode } from './CliIo.js';
import { cliRuntime } from './cliRuntime.js';

/** `status [--json]`: per cluster and target: last recompute, last push, queue and poison depth, errors. */
export const statusCommand: Command = async (args, io) => {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  const { deps } = cliRuntime(io);
  const monitored = (await deps.clusters.listClusters()).map((c) => c.name);
  const report = await collectStatus({ ...deps, monitored });
  io.stdout(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
  return ExitCode.ok;
};
