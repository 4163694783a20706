import type { PanoramaPeersReport } from '../panorama/panoramaPeersReport.js';
import { describeTarget } from '../panorama/targetId.js';
import { POISON_SUFFIX } from '../queues/queueNames.js';
import type { StatusReport } from './collectStatus.js';

/**
 * What in a status report needs someone's attention, one line each (empty: nothing): a failed or
 * held cluster, a device group that resolves to no firewall, a target whose last push failed or had rejected entries, a failed audit, poisoned
 * messages, an HA pair of Panoramas with no active peer, and with `TAG_TIMEOUT_MINUTES` an audited
 * target whose tags were last re-registered more than half the timeout ago (they may lapse). A disconnected firewall, a cluster still recomputing and IPs over their tag budget are
 * shown by `status` but are not failures here. Pure; `status --check` exits 1 on any.
 */
export function statusAttention(report: StatusReport, panorama?: PanoramaPeersReport): string[] {
  const lines: string[] = [];
  if (panorama && !panorama.active)
    lines.push('Panorama HA pair: no active peer; pushes and audits are retried until one is active');
  for (const c of report.clusters) {
    if (c.heldRemovals > 0)
      lines.push(`cluster ${c.cluster}: ${c.heldRemovals} tag removals held by the removal guard`);
    else if (c.lastRecomputeResult === 'failed')
      lines.push(`cluster ${c.cluster}: last recompute failed: ${c.lastError ?? 'unknown error'}`);
    for (const problem of c.targetProblems ?? []) lines.push(`cluster ${c.cluster}: ${problem}`);
    for (const t of c.targets) {
      if (t.failedEntries)
        lines.push(
          `cluster ${c.cluster} target ${describeTarget(t.target, t.hostname)}: ${t.failedEntries} entries rejected by the device`,
        );
      else if (t.lastError && !t.disconnected)
        lines.push(`cluster ${c.cluster} target ${describeTarget(t.target, t.hostname)}: ${t.lastError}`);
    }
  }
  for (const a of report.audits)
    if (a.lastError) lines.push(`audit ${describeTarget(a.target, a.hostname)}: ${a.lastError}`);
  lines.push(...staleRefreshes(report));
  for (const q of report.queues) {
    if (q.name.endsWith(POISON_SUFFIX) && q.depth > 0)
      lines.push(
        `${q.depth} poisoned messages in ${q.name}: run "aks-panorama-sync replay-poison" once the cause is fixed`,
      );
  }
  return lines;
}

/**
 * Audited targets that a monitored cluster's tags go to and whose tags were last refreshed more than
 * half `TAG_TIMEOUT_MINUTES` ago (or never).
 */
function staleRefreshes(report: StatusReport): string[] {
  const minutes = report.tagTimeoutMinutes;
  if (minutes === undefined) return [];
  const now = Date.parse(report.generatedAt);
  const used = new Set(
    report.clusters.filter((c) => c.monitored && !c.deletedAt).flatMap((c) => c.currentTargets ?? []),
  );
  return report.audits
    .filter((a) => used.has(a.target))
    .filter((a) => !a.lastRefreshAt || now - Date.parse(a.lastRefreshAt) > (minutes / 2) * 60_000)
    .map(
      (a) =>
        `audit ${a.target}: tags last re-registered ${a.lastRefreshAt ?? 'never'}, more than half of TAG_TIMEOUT_MINUTES (${minutes}) ago; they expire ${minutes} minutes after their last register: check that the reconcile timer runs and the audit succeeds`,
    );
}
