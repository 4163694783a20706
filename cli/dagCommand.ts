import { parseArgs } from 'node:util';
import { parseDagExpression } from '../shared/dag/parseDagExpression.js';
import { InputError } from '../shared/errors.js';
import { type DagReport, evaluateDag } from '../shared/pipeline/evaluateDag.js';
import { type Command, ExitCode } from './CliIo.js';
import { cliRuntime } from './cliRuntime.js';
import { resolveTarget } from './resolveTarget.js';

const USAGE = 'dag EXPRESSION [--target TARGET] [--json]';

const HELP = `Usage: aks-panorama-sync ${USAGE}

Lists the IPs (and their Services) a PAN-OS Dynamic Address Group match selects, e.g.
  aks-panorama-sync dag "'aks.aks-prod-1.svc.app.web' and 'aks_web.aks-prod-1.checkout'"

EXPRESSION is PAN-OS match syntax: tags in single quotes, "and", "or" and parentheses. Mixing "and"
and "or" needs parentheses ('a' and ('b' or 'c')): PAN-OS does not document which binds tighter.
There is no "not". Tags match whole and case-sensitively. At most 2047 characters. See docs/dag.md.

  --target TARGET   evaluate against what that target holds (its read-back: every registered tag,
                    ours and others'): a firewall serial, SERIAL:vsysN, "panorama", or a
                    firewall's hostname (any case; a hostname of several targets exits 2)
                    (default: the last-known state of the configured clusters)
  --json            print the result as JSON

No matching IP is not an error ("0 IPs match …", exit 0). A bad expression exits 2 with the position
of the problem; a failed read (storage, Panorama) exits 1. Warnings (a tag on no IP, a target no
cluster sends to) go to stderr.
`;

function parseDagArgs(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    options: {
      target: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
  });
  if (values.help) return { help: true as const };
  if (positionals.length !== 1)
    throw new InputError(
      `${positionals.length === 0 ? 'missing EXPRESSION' : 'give the whole EXPRESSION as one argument, quoted'} (usage: ${USAGE})`,
    );
  return {
    help: false as const,
    expression: positionals[0] as string,
    target: values.target,
    json: values.json,
  };
}

function plural(n: number): string {
  return n === 1 ? '1 IP matches' : `${n} IPs match`;
}

/** The human-readable report: a heading, then one line per IP with its Services. */
function formatDagReport(report: DagReport): string {
  const source =
    report.source.kind === 'state'
      ? `the last-known state of ${report.source.clusters.join(', ') || 'no configured cluster'}`
      : `the read-back of target ${report.source.target}`;
  const width = Math.max(0, ...report.members.map((m) => m.ip.length));
  const lines = report.members.map(
    (m) => `  ${m.ip.padEnd(width)}  ${m.services.join(', ') || '(no Service tag of ours)'}`,
  );
  const colon = lines.length > 0 ? ':' : '';
  return `${plural(report.members.length)} ${report.expression} in ${source}${colon}\n${lines.map((l) => `${l}\n`).join('')}`;
}

/**
 * `dag EXPRESSION [--target TARGET] [--json]`: the IPs a Dynamic Address Group match selects in
 * the last-known state of the configured clusters, or in one target's read-back. Exit 0 also when
 * nothing matches; 2 for a bad expression or arguments; 1 when a read fails.
 */
export const dagCommand: Command = async (args, io) => {
  const parsed = parseDagArgs(args);
  if (parsed.help) {
    io.stdout(HELP);
    return ExitCode.ok;
  }
  const expression = parseDagExpression(parsed.expression);
  const { deps } = cliRuntime(io);
  const target = parsed.target === undefined ? undefined : (await resolveTarget(deps, parsed.target)).target;
  const report = await evaluateDag(expression, deps, target === undefined ? {} : { target });
  for (const warning of report.warnings) io.stderr(`warning: ${warning}\n`);
  io.stdout(parsed.json ? `${JSON.stringify(report, null, 2)}\n` : formatDagReport(report));
  return ExitCode.ok;
};
