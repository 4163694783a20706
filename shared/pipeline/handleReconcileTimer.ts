import { describeError } from '../errors.js';
import { type AuditOutcome, auditTargets } from './auditTargets.js';
import { enqueueRecompute } from './enqueueRecompute.js';
import type { PipelineDeps } from './PipelineDeps.js';

/**
 * The periodic reconcile: enqueues one recompute per monitored cluster (Service label changes
 * produce no Azure event), then audits the targets whose last audit is older than the audit interval.
 */
export async function handleReconcileTimer(
  deps: PipelineDeps,
): Promise<{ enqueued: string[]; audits: AuditOutcome[] }> {
  const clusters = await deps.clusters.listClusters();
  const now = deps.now();
  for (const c of clusters) await enqueueRecompute(deps.queues, { cluster: c.name, reason: 'timer' }, now);
  let audits: AuditOutcome[] = [];
  try {
    audits = await auditTargets(deps);
  } catch (err) {
    deps.logger.error('audit could not run', { error: describeError(err) });
  }
  deps.logger.info('reconcile timer: recomputes enqueued', {
    clusters: clusters.length,
    audited: audits.filter((a) => a.status === 'audited').length,
  });
  return { enqueued: clusters.map((c) => c.name), audits };
}
