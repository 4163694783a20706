import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadHostSettings } from '../host/loadHostSettings.js';
import { describeError, InputError } from '../shared/errors.js';
import { type AuditOutcome, auditTargets } from '../shared/pipeline/auditTargets.js';
import { drainDeltaQueue } from '../shared/pipeline/drainDeltaQueue.js';
import {
  emptyOutcome,
  type RecomputeOutcome,
  recomputeCluster,
} from '../shared/pipeline/recomputeCluster.js';
import { type Command, ExitCode } from './CliIo.js';
import { cliRuntime } from './cliRuntime.js';

function formatDiff(outcome: RecomputeOutcome): string {
  if (outcome.status === 'failed')
    return `cluster ${outcome.cluster}: failed: ${outcome.error ?? 'unknown error'}\n`;
  const lines = [
    `cluster ${outcome.cluster}: ${outcome.deltas.length} IPs change (+${outcome.registered} / -${outcome.unregistered} tags)`,
  ];
  for (const d of outcome.deltas) {
    for (const t of d.register) lines.push(`  + ${d.ip} ${t}`);
    for (const t of d.unregister) lines.push(`  - ${d.ip} ${t}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * `reconcile [--cluster NAME] [--dry-run] [--no-audit] [--json]`: one full pass for the configured
 * clusters — recompute, enqueue, drain the delta queue to Panorama, audit every target — and a
 * summary. Exit 1 when anything failed (left queued or poisoned, never lost).
 */
export const reconcileCommand: Command = async (args, io) => {
  const { values } = parseArgs({
    args,
    options: {
      cluster: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'no-audit': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      verbose: { type: 'boolean', short: 'v', default: false },
    },
    allowPositionals: false,
  });
  const { deps } = cliRuntime(io, { verbose: values.verbose });
  const all = await deps.clusters.listClusters();
  const wanted = values.cluster?.toLowerCase();
  const clusters = wanted ? all.filter((c) => c.name.toLowerCase() === wanted) : all;
  if (wanted && clusters.length === 0) {
    throw new InputError(
      `unknown cluster "${values.cluster}"; configured: ${all.map((c) => c.name).join(', ') || 'none'}`,
    );
  }
  // Requested now: a recompute that started before this command cannot cover changes made since, so
  // the pass must never be coalesced with it (backdating the request made `reconcile` a no-op for a
  // few seconds after any other recompute).
  const requestedAt = deps.now().toISOString();
  const recomputes: RecomputeOutcome[] = [];
  for (const c of clusters) {
    try {
      recomputes.push(
        await recomputeCluster({ v: 1, cluster: c.name, reason: 'cli reconcile', requestedAt }, deps, {
          dryRun: values['dry-run'],
        }),
      );
    } catch (err) {
      // One cluster failing (API down, token refused) must not stop the pass for the others; the
      // failure is in the summary and the exit code, and nothing was committed for that cluster.
      recomputes.push({ ...emptyOutcome(c.name, 'failed'), error: describeError(err) });
    }
  }
  if (values['dry-run']) {
    if (values.json)
      io.stdout(
        `${JSON.stringify(
          recomputes.map(({ cluster, deltas }) => ({ cluster, deltas })),
          null,
          2,
        )}\n`,
      );
    else for (const r of recomputes) io.stdout(formatDiff(r));
    return recomputes.some((r) => r.status === 'failed') ? ExitCode.failed : ExitCode.ok;
  }
  // The same attempts per message as the Functions host (host.json of the working directory).
  const { maxDequeueCount } = loadHostSettings(join(io.cwd, 'host.json')).queues;
  const drain = await drainDeltaQueue(deps, { maxDequeueCount });
  let audits: AuditOutcome[] = [];
  if (!values['no-audit']) {
    try {
      audits = await auditTargets(deps, { force: true, ...(wanted ? { clusters: [wanted] } : {}) });
    } catch (err) {
      // E.g. the device groups cannot be read: still print the summary of what was done.
      const error = describeError(err);
      deps.logger.error('audit could not run', { error });
      audits = [
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
  const failedRecomputes = recomputes.filter((r) => r.status === 'failed' || r.status === 'busy');
  const entryFailures = drain.pushed.reduce((n, p) => n + p.failures.length, 0);
  const failedAudits = audits.filter((a) => a.status === 'failed');
  const summary = {
    clusters: recomputes.map(({ deltas: _d, ...r }) => r),
    pushes: {
      messages: drain.pushed.length,
      registered: drain.pushed.reduce((n, p) => n + p.registered, 0),
      unregistered: drain.pushed.reduce((n, p) => n + p.unregistered, 0),
      panoramaCalls: drain.pushed.reduce((n, p) => n + p.calls, 0),
      entryFailures,
      retried: drain.retried,
      poisoned: drain.poisoned,
      leftQueued: drain.leftQueued,
    },
    audits,
  };
  if (values.json) io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    const lines: string[] = [];
    for (const r of summary.clusters) {
      lines.push(
        `cluster ${r.cluster}: ${r.status}${r.generation !== undefined ? ` (generation ${r.generation})` : ''}, ${r.ips} IPs, +${r.registered}/-${r.unregistered} tags, ${r.messages} messages to ${r.targets.length} targets${r.disconnected.length ? `, ${r.disconnected.length} firewalls disconnected` : ''}${r.error ? `: ${r.error}` : ''}`,
      );
    }
    const p = summary.pushes;
    lines.push(
      `pushes: ${p.messages} messages, +${p.registered}/-${p.unregistered} tags in ${p.panoramaCalls} Panorama calls; ${p.entryFailures} entries rejected, ${p.retried} retries, ${p.poisoned} poisoned, ${p.leftQueued} left queued`,
    );
    for (const a of audits) {
      lines.push(
        `audit ${a.target}: ${a.status}, ${a.deviceIps} IPs on device, repaired +${a.registered}/-${a.unregistered}${a.error ? `: ${a.error}` : ''}`,
      );
    }
    io.stdout(`${lines.join('\n')}\n`);
  }
  const failed =
    failedRecomputes.length + entryFailures + drain.poisoned + drain.leftQueued + failedAudits.length > 0;
  return failed ? ExitCode.failed : ExitCode.ok;
};
