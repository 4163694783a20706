import { parseArgs } from 'node:util';
import { formatPanoramaPeers, panoramaPeersReport } from '../shared/panorama/panoramaPeersReport.js';
import { collectStatus, formatStatus } from '../shared/pipeline/collectStatus.js';
import { statusAttention } from '../shared/pipeline/statusAttention.js';
import { type Command, ExitCode } from './CliIo.js';
import { cliRuntime } from './cliRuntime.js';

const HELP = `Usage: aks-panorama-sync status [--json] [--check]

Per cluster and target: last recompute, last push, counts, errors, held removals, IPs cut to their
tag budget, queue and poison depth.

  --json     the report as JSON
  --check    also list what needs attention (held or failed clusters, rejected entries, failed
             pushes or audits, poisoned messages) on stderr and exit 1 if anything does
  -h, --help this text
`;

/** `status [--json] [--check]`: the status report; with `--check`, exit 1 when anything needs attention. */
export const statusCommand: Command = async (args, io) => {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.stdout(HELP);
    return ExitCode.ok;
  }
  const { deps } = cliRuntime(io);
  const monitored = (await deps.clusters.listClusters()).map((c) => c.name);
  const [report, panorama] = await Promise.all([
    collectStatus({ ...deps, monitored }),
    panoramaPeersReport(deps.panorama, deps.now()),
  ]);
  const json = { ...report, ...(panorama ? { panorama } : {}) };
  const text = `${formatStatus(report)}${panorama ? formatPanoramaPeers(panorama) : ''}`;
  io.stdout(values.json ? `${JSON.stringify(json, null, 2)}\n` : text);
  if (!values.check) return ExitCode.ok;
  const attention = statusAttention(report, panorama);
  for (const line of attention) io.stderr(`needs attention: ${line}\n`);
  return attention.length > 0 ? ExitCode.failed : ExitCode.ok;
};
