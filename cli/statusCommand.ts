import { parseArgs } from 'node:util';
import { formatPanoramaPeers } from '../shared/panorama/panoramaPeersReport.js';
import { describeTarget } from '../shared/panorama/targetId.js';
import { formatStatus } from '../shared/pipeline/collectStatus.js';
import { readStatus } from '../shared/pipeline/readStatus.js';
import { statusAttention } from '../shared/pipeline/statusAttention.js';
import { formatHoldings, readTargetHoldings } from '../shared/pipeline/targetHoldings.js';
import { type Command, ExitCode } from './CliIo.js';
import { cliRuntime } from './cliRuntime.js';
import { resolveTarget } from './resolveTarget.js';

const HELP = `Usage: aks-panorama-sync status [--json] [--check] [--target TARGET]

Per cluster and target: last recompute, last push, counts, errors, held removals, IPs cut to their
tag budget, queue and poison depth.

  --target TARGET  what one target holds now (read back from the device): every registered IP
             with its tags, ours (owned) and others' (foreign) apart; TARGET is a serial,
             SERIAL:vsysN, panorama, or a firewall's hostname (any case; a hostname of
             several targets exits 2 listing them)
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
      target: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.stdout(HELP);
    return ExitCode.ok;
  }
  const { deps } = cliRuntime(io);
  if (values.target !== undefined) {
    const { target, hostname } = await resolveTarget(deps, values.target);
    const held = await readTargetHoldings(deps, target);
    io.stdout(
      values.json
        ? `${JSON.stringify({ target, ...(hostname ? { hostname } : {}), ips: held }, null, 2)}\n`
        : formatHoldings(describeTarget(target, hostname), held),
    );
    return ExitCode.ok;
  }
  const { report, panorama } = await readStatus(deps);
  const json = { ...report, ...(panorama ? { panorama } : {}) };
  const text = `${formatStatus(report)}${panorama ? formatPanoramaPeers(panorama) : ''}`;
  io.stdout(values.json ? `${JSON.stringify(json, null, 2)}\n` : text);
  if (!values.check) return ExitCode.ok;
  const attention = statusAttention(report, panorama);
  for (const line of attention) io.stderr(`needs attention: ${line}\n`);
  return attention.length > 0 ? ExitCode.failed : ExitCode.ok;
};
