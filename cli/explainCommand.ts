import { parseArgs } from 'node:util';
import { InputError } from '../shared/errors.js';
import {
  type ClusterExplanation,
  explainIp,
  type IpExplanation,
  type LabelExplanation,
  type SelectorExplanation,
  type ServiceExplanation,
  type TargetExplanation,
  UnknownIpError,
} from '../shared/pipeline/explainIp.js';
import { quoteForMessage } from '../shared/tags/quoteForMessage.js';
import { type Command, ExitCode } from './CliIo.js';
import { cliRuntime } from './cliRuntime.js';

const USAGE = 'explain IP [--json]';

const HELP = `Usage: aks-panorama-sync ${USAGE}

Says why an IP carries each tag: the cluster whose last-known state holds it and the tags committed
there; the Services behind it now (namespace/name) with their labels (tagged, left out by the
cluster's labelTags filter, refused, or cut by the tag budget) and each configured selector (matched,
or which requirements fail); the tags wanted now; and for each target of the cluster whether the
device holds the committed tags (missing and stale ones).

  --json   print the explanation as JSON

Exit 0 when explained; 1 when no configured cluster's last-known state holds the IP, or when the
cluster's Services or a target could not be read (the rest is still printed, the failures go to
stderr); 2 when IP is not an IP address.
`;

function parseExplainArgs(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
  });
  if (values.help) return { help: true as const };
  if (positionals.length !== 1)
    throw new InputError(`${positionals.length === 0 ? 'missing IP' : 'give one IP'} (usage: ${USAGE})`);
  return { help: false as const, ip: positionals[0] as string, json: values.json };
}

const LABEL_NOTE: Record<LabelExplanation['status'], string> = {
  tagged: '',
  filtered: ' (no tag: left out by the labelTags filter)',
  cut: ' (tag cut by the tag budget)',
  refused: ' (no tag: PAN-OS would refuse it, see the issues)',
  'not-a-string': ' (not a string: no label or selector tags)',
};

// biome-ignore lint/suspicious/noControlCharactersInRegex: keeps hostile label text on its line
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** `text`, JSON-quoted when it holds a character a terminal would act on. */
function safe(text: string): string {
  return UNSAFE.test(text) ? quoteForMessage(text) : text;
}

function formatLabel(l: LabelExplanation): string {
  return `      ${safe(l.key)}=${safe(l.value)}${l.tag && l.status !== 'refused' ? ` → ${l.tag}` : ''}${LABEL_NOTE[l.status]}`;
}

function formatSelector(s: SelectorExplanation): string {
  const head = `      ${s.name} (${s.selector}): `;
  if (!s.matched) return `${head}not matched: ${s.failing.join(', ')} does not hold`;
  return `${head}matched → ${s.tag}${s.cut ? ' (cut by the tag budget)' : ''}`;
}

function formatService(s: ServiceExplanation): string[] {
  return [
    `  Service ${s.service}`,
    `    labels:${s.labels.length === 0 ? ' none' : ''}`,
    ...s.labels.map(formatLabel),
    ...(s.selectors.length === 0 ? [] : ['    selectors:', ...s.selectors.map(formatSelector)]),
  ];
}

function formatTarget(t: TargetExplanation, committed: number): string {
  if (t.error !== undefined) return `  target ${t.target}: could not be read: ${t.error}`;
  const missing = t.missing ?? [];
  const stale = t.stale ?? [];
  const state =
    missing.length === 0 && stale.length === 0
      ? `holds all ${committed} committed tags`
      : [
          missing.length > 0 ? `missing ${missing.join(', ')}` : '',
          stale.length > 0 ? `stale ${stale.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join('; ');
  return `  target ${t.target}: ${state}`;
}

/** The wanted tags against the committed ones: what the next recompute changes. */
function formatWanted(c: ClusterExplanation): string[] {
  if (c.wanted === undefined)
    return [`  tags wanted now: unknown (Services not listed: ${c.liveError ?? ''})`];
  const committed = new Set(c.committed);
  const wanted = new Set(c.wanted);
  const add = c.wanted.filter((t) => !committed.has(t));
  const drop = c.committed.filter((t) => !wanted.has(t));
  const lines = [
    `  tags wanted now (${c.wanted.length}, budget ${c.budget}): ${c.wanted.join(', ') || 'none'}`,
  ];
  if (add.length + drop.length > 0)
    lines.push(
      `  the next recompute changes the state: +${add.join(', +') || ' none'}; -${drop.join(', -') || ' none'}`,
    );
  if (c.cut.length > 0) lines.push(`  cut by the tag budget: ${c.cut.join(', ')}`);
  return lines;
}

function formatCluster(ip: string, c: ClusterExplanation): string[] {
  return [
    `IP ${ip} in cluster ${c.cluster} (generation ${c.generation})`,
    `  committed tags (${c.committed.length}): ${c.committed.join(', ') || 'none'}`,
    ...(c.wanted !== undefined && c.services.length === 0
      ? ['  no Service of the cluster has this IP now']
      : []),
    ...c.services.flatMap(formatService),
    ...formatWanted(c),
    ...c.issues.map((i) => `  ${i}`),
    ...(c.targets.length === 0
      ? ['  targets: none recorded yet']
      : c.targets.map((t) => formatTarget(t, c.committed.length))),
  ];
}

function formatExplanation(e: IpExplanation): string {
  return `${e.clusters.flatMap((c) => formatCluster(e.ip, c)).join('\n')}\n`;
}

/** One stderr line per part that could not be read; true when there was any. */
function reportFailures(e: IpExplanation, stderr: (text: string) => void): boolean {
  let failed = false;
  for (const c of e.clusters) {
    if (c.liveError !== undefined) {
      stderr(`error: the Services of cluster ${c.cluster} could not be listed: ${c.liveError}\n`);
      failed = true;
    }
    for (const t of c.targets.filter((x) => x.error !== undefined)) {
      stderr(`error: target ${t.target} could not be read: ${t.error}\n`);
      failed = true;
    }
  }
  return failed;
}

/**
 * `explain IP [--json]`: the Services, labels, selectors and tags behind an IP, and what each
 * target holds. Exit 1 for an IP no configured cluster's state holds, or when a part could not be
 * read; 2 for an argument that is no IP.
 */
export const explainCommand: Command = async (args, io) => {
  const parsed = parseExplainArgs(args);
  if (parsed.help) {
    io.stdout(HELP);
    return ExitCode.ok;
  }
  const { deps } = cliRuntime(io);
  let explanation: IpExplanation;
  try {
    explanation = await explainIp(parsed.ip, deps);
  } catch (err) {
    if (!(err instanceof UnknownIpError)) throw err;
    io.stderr(`aks-panorama-sync explain: ${err.message}\n`);
    return ExitCode.failed;
  }
  const failed = reportFailures(explanation, io.stderr);
  io.stdout(parsed.json ? `${JSON.stringify(explanation, null, 2)}\n` : formatExplanation(explanation));
  return failed ? ExitCode.failed : ExitCode.ok;
};
