import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadHostSettings } from '../host/loadHostSettings.js';
import type { ClusterConfig } from '../shared/config/loadConfig.js';
import { describeError, InputError } from '../shared/errors.js';
import { describeRejected } from '../shared/panorama/rejectedEntries.js';
import { describeTarget } from '../shared/panorama/targetId.js';
import { type AuditOutcome, auditTargets } from '../shared/pipeline/auditTargets.js';
import { type DrainResult, drainDeltaQueue } from '../shared/pipeline/drainDeltaQueue.js';
import type { PipelineDeps } from '../shared/pipeline/PipelineDeps.js';
import {
  emptyOutcome,
  type RecomputeOutcome,
  recomputeCluster,
} from '../shared/pipeline/recomputeCluster.js';
import { type Command, ExitCode } from './CliIo.js';
import { cliRuntime } from './cliRuntime.js';

/** What `reconcile` says of a cluster another recompute holds (nothing is queued for it here). */
const BUSY_HINT =
  'another recompute holds the cluster lease; nothing was done here, run reconcile again shortly';

const RECONCILE_HELP = `Usage: aks-panorama-sync reconcile [--cluster NAME] [--dry-run] [--no-audit] [--allow-removals] [--json]

One full pass for the configured clusters: recompute, enqueue, push the delta queue to Panorama,
audit every target (read back, repair drift of owned tags), then a summary.

  --cluster NAME     only this cluster (and the targets it pushes to)
  --dry-run          read clusters, state and every target; write and send nothing: the diff, what
                     the audit would repair, what the removal guard would hold
  --no-audit         skip the audit (and, with --dry-run, the read-back)
  --allow-removals   apply the held removals of --cluster NAME once (see docs/removals.md)
  --json             the summary as JSON
  -v, --verbose      debug logs
  -h, --help         this text

Exit 1 when anything needs attention: a held, busy or failed cluster, an entry the device
rejected, a message left queued or poisoned (never lost), a failed audit.
`;

interface ReconcileArgs {
  help?: boolean;
  cluster?: string;
  dryRun: boolean;
  noAudit: boolean;
  allowRemovals: boolean;
  json: boolean;
  verbose: boolean;
}

function parseReconcileArgs(args: string[]): ReconcileArgs {
  const { values } = parseArgs({
    args,
    options: {
      cluster: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'no-audit': { type: 'boolean', default: false },
      'allow-removals': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      verbose: { type: 'boolean', short: 'v', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
  });
  if (values.help)
    return { help: true, dryRun: false, noAudit: false, allowRemovals: false, json: false, verbose: false };
  if (values['allow-removals'] && !values.cluster)
    throw new InputError('--allow-removals applies the held removals of one cluster: give --cluster NAME');
  return {
    ...(values.cluster ? { cluster: values.cluster } : {}),
    dryRun: values['dry-run'],
    noAudit: values['no-audit'],
    allowRemovals: values['allow-removals'],
    json: values.json,
    verbose: values.verbose,
  };
}

/** The configured clusters, or the one `--cluster` names (unknown: an error listing the known). */
async function selectClusters(deps: PipelineDeps, name: string | undefined): Promise<ClusterConfig[]> {
  const all = await deps.clusters.listClusters();
  if (!name) return all;
  const found = all.filter((c) => c.name.toLowerCase() === name.toLowerCase());
  if (found.length === 0) {
    throw new InputError(
      `unknown cluster "${name}"; configured: ${all.map((c) => c.name).join(', ') || 'none'}`,
    );
  }
  return found;
}

/** Recomputes every cluster; one failing (API down, token refused) does not stop the others. */
async function recomputeAll(
  deps: PipelineDeps,
  clusters: readonly ClusterConfig[],
  a: ReconcileArgs,
): Promise<ClusterOutcome[]> {
  // Requested now: a recompute that started before this command cannot cover changes made since.
  const requestedAt = deps.now().toISOString();
  const outcomes: RecomputeOutcome[] = [];
  for (const c of clusters) {
    try {
      const request = { v: 1 as const, cluster: c.name, reason: 'cli reconcile', requestedAt };
      const options = { dryRun: a.dryRun, allowRemovals: a.allowRemovals };
      const { requeueAfter: _r, ...outcome } = await recomputeCluster(request, deps, options);
      outcomes.push(outcome.status === 'busy' ? { ...outcome, error: BUSY_HINT } : outcome);
    } catch (err) {
      outcomes.push({ ...emptyOutcome(c.name, 'failed'), error: describeError(err) });
    }
  }
  return Promise.all(outcomes.map((o) => (o.status === 'failed' ? withLastKnown(deps, o) : o)));
}

/** A cluster's outcome with what its committed state still holds (for a failed recompute). */
type ClusterOutcome = RecomputeOutcome & { lastKnown?: { generation: number; ips: number; tags: number } };

/** Adds the last committed counts to a failed outcome: what the firewalls keep meanwhile. */
async function withLastKnown(deps: PipelineDeps, outcome: RecomputeOutcome): Promise<ClusterOutcome> {
  try {
    const head = await deps.clusterState.getHead(outcome.cluster);
    if (!head || head.generation === 0) return outcome;
    return { ...outcome, lastKnown: { generation: head.generation, ips: head.ipCount, tags: head.tagCount } };
  } catch {
    return outcome;
  }
}

/** The audit of the selected clusters' targets (forced); a failure to plan it is one failed outcome. */
async function runAudit(deps: PipelineDeps, a: ReconcileArgs): Promise<AuditOutcome[]> {
  try {
    return await auditTargets(deps, {
      force: true,
      dryRun: a.dryRun,
      ...(a.cluster ? { clusters: [a.cluster.toLowerCase()] } : {}),
    });
  } catch (err) {
    const error = describeError(err);
    deps.logger.error('audit could not run', { error });
    return [
      {
        target: 'all targets',
        status: 'failed',
        clusters: [],
        registered: 0,
        unregistered: 0,
        deviceIps: 0,
        failures: 0,
        error,
      },
    ];
  }
}

function pushSummary(drain: DrainResult) {
  const sum = (f: (p: DrainResult['pushed'][number]) => number) => drain.pushed.reduce((n, p) => n + f(p), 0);
  return {
    messages: drain.pushed.length,
    registered: sum((p) => p.registered),
    unregistered: sum((p) => p.unregistered),
    panoramaCalls: sum((p) => p.calls),
    entryFailures: sum((p) => p.failures.length),
    retried: drain.retried,
    poisoned: drain.poisoned,
    leftQueued: drain.leftQueued,
    failuresByTarget: drain.failuresByTarget,
  };
}

/** One line per `cluster/target` whose pushes failed: attempts, poisoned messages, the last error. */
function formatPushFailures(failures: DrainResult['failuresByTarget']): string[] {
  return Object.entries(failures)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, f]) => {
      const poisoned = f.poisoned
        ? `, ${f.poisoned} poisoned (replay-poison brings them back)`
        : ', will be retried';
      return `  push ${key}: ${f.failedAttempts} failed attempts${poisoned}: ${f.lastError}`;
    });
}

function formatCluster(r: Omit<ClusterOutcome, 'deltas'>): string[] {
  const generation = r.generation !== undefined ? ` (generation ${r.generation})` : '';
  const disconnected = r.disconnected.length ? `, ${r.disconnected.length} firewalls disconnected` : '';
  if (r.lastKnown) {
    const k = r.lastKnown;
    return [
      `cluster ${r.cluster}: failed; nothing changed, the firewalls keep its last known state (generation ${k.generation}, ${k.ips} IPs, ${k.tags} tags): ${r.error ?? 'unknown error'}`,
    ];
  }
  const lines = [
    `cluster ${r.cluster}: ${r.status}${generation}, ${r.ips} IPs, +${r.registered}/-${r.unregistered} tags, ${r.messages} messages to ${r.targets.length} targets${disconnected}${r.error ? `: ${r.error}` : ''}`,
  ];
  if (r.held) lines.push(`  HELD: ${r.held.reason}`);
  for (const p of r.targetProblems ?? []) lines.push(`  ERROR: ${p}`);
  lines.push(...targetLines(r));
  return lines;
}

/** One line per firewall target of a recompute: hostname, serial, vsys and device group. */
function targetLines(r: Omit<RecomputeOutcome, 'deltas'>): string[] {
  const disconnected = new Set(r.disconnected);
  return Object.entries(r.targetInfo ?? {}).map(
    ([target, info]) =>
      `  target ${describeTarget(target, info.hostname)}, device group ${info.deviceGroup}${disconnected.has(target) ? ', DISCONNECTED' : ''}`,
  );
}

function formatAudit(a: AuditOutcome): string[] {
  const verb = a.dryRun ? 'would repair' : 'repaired';
  const lines = [
    `audit ${describeTarget(a.target, a.hostname)}${a.deviceGroup ? `, device group ${a.deviceGroup}` : ''}: ${a.dryRun ? 'dry run' : a.status}, ${a.deviceIps} IPs on device, ${verb} +${a.registered}/-${a.unregistered}${a.error ? `: ${a.error}` : ''}`,
  ];
  if (a.failures)
    lines.push(`  ${a.failures} entries REJECTED by the device: ${describeRejected(a.rejected ?? [])}`);
  return lines;
}

function formatDiff(outcome: RecomputeOutcome): string[] {
  if (outcome.status === 'failed')
    return [`cluster ${outcome.cluster}: failed: ${outcome.error ?? 'unknown error'}`];
  const lines = [
    `cluster ${outcome.cluster}: ${outcome.deltas.length} IPs change (+${outcome.registered} / -${outcome.unregistered} tags)`,
  ];
  if (outcome.held) lines.push(`  would be HELD: ${outcome.held.reason}`);
  for (const p of outcome.targetProblems ?? []) lines.push(`  ERROR: ${p}`);
  for (const d of outcome.deltas) {
    for (const t of d.register) lines.push(`  + ${d.ip} ${t}`);
    for (const t of d.unregister) lines.push(`  - ${d.ip} ${t}`);
  }
  return lines;
}

function printDryRun(
  io: Parameters<Command>[1],
  a: ReconcileArgs,
  recomputes: RecomputeOutcome[],
  audits: AuditOutcome[],
) {
  if (a.json) {
    // One entry per cluster (as without the audit), with the audit of the targets it pushes to.
    const clusters = recomputes.map(({ cluster, status, deltas, held, error }) => ({
      ...{ cluster, status, deltas },
      ...(held ? { held } : {}),
      ...(error ? { error } : {}),
      audits: audits.filter((x) => x.clusters.some((c) => c.toLowerCase() === cluster.toLowerCase())),
    }));
    io.stdout(`${JSON.stringify(clusters, null, 2)}\n`);
    return;
  }
  const lines = recomputes.flatMap(formatDiff);
  for (const audit of audits) lines.push(...formatAudit(audit));
  io.stdout(`${lines.join('\n')}\n`);
}

/** A held, busy or failed cluster, a cluster with target problems, a rejected entry, a poisoned or queued message or a failed audit. */
function needsAttention(
  recomputes: RecomputeOutcome[],
  audits: AuditOutcome[],
  drain?: DrainResult,
): boolean {
  const clusters = recomputes.some(
    (r) => r.status === 'failed' || r.status === 'busy' || r.status === 'held' || !!r.targetProblems?.length,
  );
  const targets = audits.some((a) => a.status === 'failed' || a.failures > 0);
  const pushes = drain
    ? drain.poisoned + drain.leftQueued + drain.pushed.reduce((n, p) => n + p.failures.length, 0) > 0
    : false;
  return clusters || targets || pushes;
}

/**
 * `reconcile [--cluster NAME] [--dry-run] [--no-audit] [--allow-removals] [--json]`: one full pass
 * for the configured clusters — recompute, enqueue, drain the delta queue to Panorama, audit every
 * target — and a summary. `--dry-run` reads everything (clusters, state, targets) and writes
 * nothing. Exit 1 when anything needs attention: a held, busy or failed cluster, an entry the device
 * rejected, a message left queued or poisoned (never lost), a failed audit.
 */
export const reconcileCommand: Command = async (args, io) => {
  const a = parseReconcileArgs(args);
  if (a.help) {
    io.stdout(RECONCILE_HELP);
    return ExitCode.ok;
  }
  const { deps } = cliRuntime(io, { verbose: a.verbose });
  const clusters = await selectClusters(deps, a.cluster);
  const recomputes = await recomputeAll(deps, clusters, a);
  if (a.dryRun) {
    const audits = a.noAudit ? [] : await runAudit(deps, a);
    printDryRun(io, a, recomputes, audits);
    return needsAttention(
      recomputes.filter((r) => r.status !== 'held'),
      audits,
    )
      ? ExitCode.failed
      : ExitCode.ok;
  }
  // The same attempts per message as the Functions host (host.json of the working directory).
  const { maxDequeueCount } = loadHostSettings(join(io.cwd, 'host.json')).queues;
  const drain = await drainDeltaQueue(deps, { maxDequeueCount });
  const audits = a.noAudit ? [] : await runAudit(deps, a);
  const summary = {
    clusters: recomputes.map(({ deltas: _d, ...r }) => r),
    pushes: pushSummary(drain),
    audits,
  };
  if (a.json) io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    const p = summary.pushes;
    const lines = summary.clusters.flatMap(formatCluster);
    lines.push(
      `pushes: ${p.messages} messages, +${p.registered}/-${p.unregistered} tags in ${p.panoramaCalls} Panorama calls; ${p.entryFailures} entries rejected, ${p.retried} retries, ${p.poisoned} poisoned, ${p.leftQueued} left queued`,
      ...formatPushFailures(p.failuresByTarget),
    );
    for (const audit of audits) lines.push(...formatAudit(audit));
    io.stdout(`${lines.join('\n')}\n`);
  }
  return needsAttention(recomputes, audits, drain) ? ExitCode.failed : ExitCode.ok;
};
