import { describeTarget } from '../panorama/targetId.js';
import { messageFields } from '../queues/messageFields.js';
import type { PipelineQueues } from '../queues/PipelineQueues.js';
import { DELTA_QUEUE, poisonQueueName, RECOMPUTE_QUEUE } from '../queues/queueNames.js';
import type { ClusterStateRepository } from '../state/ClusterStateRepository.js';
import type { AuditStatus, TargetStatus, TargetStatusRepository } from '../state/TargetStatusRepository.js';
import { hasCommittedState, isLeased } from './clusterHead.js';
import type { EventCoverage } from './eventCoverage.js';

/** Per-cluster status. */
export interface ClusterStatus {
  cluster: string;
  generation: number;
  ipCount: number;
  tagCount: number;
  /** (ip, tag) pairs the removal guard holds (0: none); `lastError` says why and what to do. */
  heldRemovals: number;
  /** IPs whose tags the last recompute cut to the tag budget. */
  ipsOverBudget: number;
  /** What the last recompute found doubtful (a Service tag of several namespaces, a selector matching nothing). */
  policyWarnings: string[];
  /** What is wrong with the cluster's targets, one line each (a device group resolving to no firewall). */
  targetProblems: string[];
  lastRecomputeAt?: string;
  lastRecomputeResult?: string;
  lastError?: string;
  lastErrorAt?: string;
  deletedAt?: string;
  /** False until a recompute has committed: until then the audit leaves the cluster's tags alone. */
  synced: boolean;
  /** Targets the cluster left (e.g. a firewall moved to another device group) still to be cleaned. */
  retiringTargets: string[];
  /** Target ids the cluster's tags go to now (as last resolved). */
  currentTargets?: string[];
  recomputing: boolean;
  monitored: boolean;
  /** How the cluster's changes arrive: ARM events, or only the reconcile timer (and why). */
  events?: EventCoverage;
  targets: (TargetStatus & { pending: number; poisoned: number })[];
}

/** The whole `status` report. */
export interface StatusReport {
  generatedAt: string;
  clusters: ClusterStatus[];
  audits: AuditStatus[];
  queues: { name: string; depth: number }[];
  /** Poisoned delta messages per `cluster/target` (from a peek of at most 32 messages). */
  poisonedSample: Record<string, number>;
  /** Pending delta messages per `cluster/target` (from a peek of at most 32 visible messages). */
  pendingSample: Record<string, number>;
  /** `TAG_TIMEOUT_MINUTES` in effect; absent = persistent tags (no timeout). */
  tagTimeoutMinutes?: number;
}

/** Counts the messages of a delta queue per `cluster/target` from a peek (at most 32 messages). */
async function countByTarget(queues: PipelineQueues, queueName: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const m of await queues.peek(queueName, 32)) {
    const { cluster = '?', target = '?' } = messageFields(m.messageText);
    const key = `${cluster}/${target}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/**
 * Gathers the status of every cluster and target: last recompute, last successful push, pending and
 * poisoned messages, last error. Read-only.
 */
export async function collectStatus(deps: {
  clusterState: ClusterStateRepository;
  targetStatus: TargetStatusRepository;
  queues: PipelineQueues;
  monitored: readonly string[];
  now: () => Date;
  tagTimeoutMinutes?: number;
  /** Per cluster (lower-case name), how its changes arrive (see `eventCoverageByCluster`). */
  eventCoverage?: Record<string, EventCoverage>;
}): Promise<StatusReport> {
  const [heads, pushes, audits] = await Promise.all([
    deps.clusterState.listHeads(),
    deps.targetStatus.listPushStatus(),
    deps.targetStatus.listAuditStatus(),
  ]);
  const names = [
    RECOMPUTE_QUEUE,
    DELTA_QUEUE,
    poisonQueueName(RECOMPUTE_QUEUE),
    poisonQueueName(DELTA_QUEUE),
  ];
  const queues = await Promise.all(
    names.map(async (name) => ({ name, depth: await deps.queues.depth(name) })),
  );
  const poisonedSample = await countByTarget(deps.queues, poisonQueueName(DELTA_QUEUE));
  const pendingSample = await countByTarget(deps.queues, DELTA_QUEUE);
  const monitored = new Set(deps.monitored.map((n) => n.toLowerCase()));
  const clusterNames = new Map<string, string>();
  for (const h of heads) clusterNames.set(h.cluster.toLowerCase(), h.cluster);
  for (const n of deps.monitored)
    if (!clusterNames.has(n.toLowerCase())) clusterNames.set(n.toLowerCase(), n);
  const clusters: ClusterStatus[] = [...clusterNames.values()].sort().map((name) => {
    const head = heads.find((h) => h.cluster.toLowerCase() === name.toLowerCase());
    const targets = pushes
      .filter((p) => p.cluster.toLowerCase() === name.toLowerCase())
      .map((p) => ({
        ...p,
        pending: pendingSample[`${name}/${p.target}`] ?? 0,
        poisoned: poisonedSample[`${name}/${p.target}`] ?? 0,
      }))
      .sort((a, b) => a.target.localeCompare(b.target));
    return {
      cluster: name,
      generation: head?.generation ?? 0,
      ipCount: head?.ipCount ?? 0,
      tagCount: head?.tagCount ?? 0,
      heldRemovals: head?.heldRemovals ?? 0,
      ipsOverBudget: head?.ipsOverBudget ?? 0,
      policyWarnings: head?.policyWarnings ? head.policyWarnings.split('\n') : [],
      targetProblems: head?.targetProblems ? head.targetProblems.split('\n') : [],
      ...(head?.lastRecomputeAt ? { lastRecomputeAt: head.lastRecomputeAt } : {}),
      ...(head?.lastRecomputeResult ? { lastRecomputeResult: head.lastRecomputeResult } : {}),
      ...(head?.lastError ? { lastError: head.lastError } : {}),
      ...(head?.lastErrorAt ? { lastErrorAt: head.lastErrorAt } : {}),
      ...(head?.deletedAt ? { deletedAt: head.deletedAt } : {}),
      synced: hasCommittedState(head),
      retiringTargets: head?.retiringTargets ?? [],
      currentTargets: head?.targets ?? [],
      recomputing: isLeased(head, deps.now()),
      monitored: monitored.has(name.toLowerCase()),
      ...eventsOf(deps.eventCoverage, name),
      targets,
    };
  });
  const timeout = deps.tagTimeoutMinutes === undefined ? {} : { tagTimeoutMinutes: deps.tagTimeoutMinutes };
  return {
    generatedAt: deps.now().toISOString(),
    clusters,
    audits,
    queues,
    poisonedSample,
    pendingSample,
    ...timeout,
  };
}

function eventsOf(
  coverage: Record<string, EventCoverage> | undefined,
  cluster: string,
): { events?: EventCoverage } {
  const events = coverage?.[cluster.toLowerCase()];
  return events ? { events } : {};
}

/** A target for people: hostname and serial (and vsys), with its device group when known. */
function targetLabel(t: { target: string; hostname?: string; deviceGroup?: string }): string {
  return `${describeTarget(t.target, t.hostname)}${t.deviceGroup ? `, device group ${t.deviceGroup}` : ''}`;
}

/** Renders a status report for a terminal. */
export function formatStatus(report: StatusReport): string {
  const lines: string[] = [];
  const q = Object.fromEntries(report.queues.map((x) => [x.name, x.depth]));
  lines.push(`queues: ${report.queues.map((x) => `${x.name}=${x.depth}`).join('  ')}`);
  lines.push(
    report.tagTimeoutMinutes === undefined
      ? 'tags: persistent (no TAG_TIMEOUT_MINUTES)'
      : `tags: expire ${report.tagTimeoutMinutes} minutes after they were last registered (TAG_TIMEOUT_MINUTES); the audit re-registers them before half of that`,
    '',
  );
  if (report.clusters.length === 0) lines.push('no clusters yet');
  for (const c of report.clusters) {
    const state = c.deletedAt
      ? `deleted ${c.deletedAt}`
      : c.recomputing
        ? 'recomputing'
        : !c.synced && c.lastRecomputeResult
          ? `never synced${c.lastRecomputeResult === 'failed' ? ' (first recompute failed)' : ''}; its tags on firewalls are left alone`
          : c.heldRemovals > 0
            ? `HELD: ${c.heldRemovals} tag removals held by the removal guard`
            : (c.lastRecomputeResult ?? 'never recomputed');
    lines.push(
      `cluster ${c.cluster}${c.monitored ? '' : ' (not monitored)'}: generation ${c.generation}, ${c.ipCount} IPs, ${c.tagCount} tags, ${state}${c.lastRecomputeAt ? ` at ${c.lastRecomputeAt}` : ''}`,
    );
    if (c.lastError) lines.push(`  last error: ${c.lastError}${c.lastErrorAt ? ` (${c.lastErrorAt})` : ''}`);
    if (c.events?.mode === 'timer-only')
      lines.push(
        `  events: timer-only, changes arrive with the reconcile timer (${c.events.reason ?? 'no event subscription'})`,
      );
    for (const p of c.targetProblems) lines.push(`  ERROR: ${p}`);
    for (const w of c.policyWarnings) lines.push(`  warning: ${w}`);
    if (c.ipsOverBudget > 0)
      lines.push(
        `  ${c.ipsOverBudget} IPs have more tags than their budget (MAX_TAGS_PER_IP); the lowest-priority tags were left out`,
      );
    for (const t of c.retiringTargets)
      lines.push(`  leaving target ${t}: the next audit removes the cluster's tags from it`);
    for (const t of c.targets) {
      const push = t.lastPushAt
        ? `last push ${t.lastPushAt} (generation ${t.lastPushGeneration ?? '?'}, +${t.registered ?? 0}/-${t.unregistered ?? 0})`
        : 'no successful push yet';
      lines.push(
        `  target ${targetLabel(t)}: ${push}${t.disconnected ? ', DISCONNECTED' : ''}${t.pending ? `, ${t.pending} pending` : ''}${t.poisoned ? `, ${t.poisoned} poisoned` : ''}`,
      );
      if (t.lastError)
        lines.push(`    last error: ${t.lastError}${t.lastErrorAt ? ` (${t.lastErrorAt})` : ''}`);
    }
  }
  if (report.audits.length) {
    lines.push('', 'audits:');
    for (const a of report.audits) {
      lines.push(
        `  ${targetLabel(a)}: last audit ${a.lastAuditAt ?? 'never'} (+${a.registered ?? 0}/-${a.unregistered ?? 0})${report.tagTimeoutMinutes === undefined ? '' : `, tags last refreshed ${a.lastRefreshAt ?? 'never'}`}${a.lastError ? `, last error: ${a.lastError}` : ''}`,
      );
    }
  }
  const poisoned = (q[`${DELTA_QUEUE}-poison`] ?? 0) + (q[`${RECOMPUTE_QUEUE}-poison`] ?? 0);
  if (poisoned > 0)
    lines.push(
      '',
      `${poisoned} poisoned messages: run "aks-panorama-sync replay-poison" once the cause is fixed.`,
    );
  return `${lines.join('\n')}\n`;
}
