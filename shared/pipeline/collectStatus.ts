import { describeTarget } from '../panorama/targetId.js';
import { messageFields } from '../queues/messageFields.js';
import type { PipelineQueues } from '../queues/PipelineQueues.js';
import { DELTA_QUEUE, poisonQueueName, RECOMPUTE_QUEUE } from '../queues/queueNames.js';
import type { ClusterHead, ClusterStateRepository } from '../state/ClusterStateRepository.js';
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

/** What {@link clusterStatusOf} needs besides the cluster's head. */
interface ClusterStatusInputs {
  targets: ClusterStatus['targets'];
  monitored: boolean;
  now: Date;
  events?: EventCoverage;
}

/** One cluster's status from its head (undefined: no state yet) and its targets. Pure. */
export function clusterStatusOf(
  name: string,
  head: ClusterHead | undefined,
  inputs: ClusterStatusInputs,
): ClusterStatus {
  const optional = {
    lastRecomputeAt: head?.lastRecomputeAt,
    lastRecomputeResult: head?.lastRecomputeResult,
    lastError: head?.lastError,
    lastErrorAt: head?.lastErrorAt,
    deletedAt: head?.deletedAt,
  };
  return {
    cluster: name,
    generation: head?.generation ?? 0,
    ipCount: head?.ipCount ?? 0,
    tagCount: head?.tagCount ?? 0,
    heldRemovals: head?.heldRemovals ?? 0,
    ipsOverBudget: head?.ipsOverBudget ?? 0,
    policyWarnings: head?.policyWarnings ? head.policyWarnings.split('\n') : [],
    targetProblems: head?.targetProblems ? head.targetProblems.split('\n') : [],
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v)),
    synced: hasCommittedState(head),
    retiringTargets: head?.retiringTargets ?? [],
    currentTargets: head?.targets ?? [],
    recomputing: isLeased(head, inputs.now),
    monitored: inputs.monitored,
    ...(inputs.events ? { events: inputs.events } : {}),
    targets: inputs.targets,
  };
}

/** The push status rows of one cluster with their pending and poisoned counts, sorted by target. */
function targetsOf(
  name: string,
  pushes: readonly TargetStatus[],
  samples: { pending: Record<string, number>; poisoned: Record<string, number> },
): ClusterStatus['targets'] {
  return pushes
    .filter((p) => p.cluster.toLowerCase() === name.toLowerCase())
    .map((p) => ({
      ...p,
      pending: samples.pending[`${name}/${p.target}`] ?? 0,
      poisoned: samples.poisoned[`${name}/${p.target}`] ?? 0,
    }))
    .sort((a, b) => a.target.localeCompare(b.target));
}

/** The cluster names to show: every cluster with state and every monitored one, sorted. */
function clusterNamesOf(heads: readonly ClusterHead[], monitored: readonly string[]): string[] {
  const names = new Map<string, string>();
  for (const h of heads) names.set(h.cluster.toLowerCase(), h.cluster);
  for (const n of monitored) if (!names.has(n.toLowerCase())) names.set(n.toLowerCase(), n);
  return [...names.values()].sort();
}

const STATUS_QUEUES = [
  RECOMPUTE_QUEUE,
  DELTA_QUEUE,
  poisonQueueName(RECOMPUTE_QUEUE),
  poisonQueueName(DELTA_QUEUE),
];

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
  const [heads, pushes, audits, queues, poisonedSample, pendingSample] = await Promise.all([
    deps.clusterState.listHeads(),
    deps.targetStatus.listPushStatus(),
    deps.targetStatus.listAuditStatus(),
    Promise.all(STATUS_QUEUES.map(async (name) => ({ name, depth: await deps.queues.depth(name) }))),
    countByTarget(deps.queues, poisonQueueName(DELTA_QUEUE)),
    countByTarget(deps.queues, DELTA_QUEUE),
  ]);
  const monitored = new Set(deps.monitored.map((n) => n.toLowerCase()));
  const now = deps.now();
  const clusters = clusterNamesOf(heads, deps.monitored).map((name) => {
    const head = heads.find((h) => h.cluster.toLowerCase() === name.toLowerCase());
    const events = deps.eventCoverage?.[name.toLowerCase()];
    return clusterStatusOf(name, head, {
      targets: targetsOf(name, pushes, { pending: pendingSample, poisoned: poisonedSample }),
      monitored: monitored.has(name.toLowerCase()),
      now,
      ...(events ? { events } : {}),
    });
  });
  const timeout = deps.tagTimeoutMinutes === undefined ? {} : { tagTimeoutMinutes: deps.tagTimeoutMinutes };
  return {
    generatedAt: now.toISOString(),
    clusters,
    audits,
    queues,
    poisonedSample,
    pendingSample,
    ...timeout,
  };
}

/** A target for people: hostname and serial (and vsys), with its device group when known. */
function targetLabel(t: { target: string; hostname?: string; deviceGroup?: string }): string {
  return `${describeTarget(t.target, t.hostname)}${t.deviceGroup ? `, device group ${t.deviceGroup}` : ''}`;
}

/** A cluster's state in a few words, for the terminal. */
function clusterStateText(c: ClusterStatus): string {
  if (c.deletedAt) return `deleted ${c.deletedAt}`;
  if (c.recomputing) return 'recomputing';
  if (!c.synced && c.lastRecomputeResult)
    return `never synced${c.lastRecomputeResult === 'failed' ? ' (first recompute failed)' : ''}; its tags on firewalls are left alone`;
  if (c.heldRemovals > 0) return `HELD: ${c.heldRemovals} tag removals held by the removal guard`;
  return c.lastRecomputeResult ?? 'never recomputed';
}

function targetLines(t: ClusterStatus['targets'][number]): string[] {
  const push = t.lastPushAt
    ? `last push ${t.lastPushAt} (generation ${t.lastPushGeneration ?? '?'}, +${t.registered ?? 0}/-${t.unregistered ?? 0})`
    : 'no successful push yet';
  const lines = [
    `  target ${targetLabel(t)}: ${push}${t.disconnected ? ', DISCONNECTED' : ''}${t.pending ? `, ${t.pending} pending` : ''}${t.poisoned ? `, ${t.poisoned} poisoned` : ''}`,
  ];
  if (t.lastError) lines.push(`    last error: ${t.lastError}${t.lastErrorAt ? ` (${t.lastErrorAt})` : ''}`);
  return lines;
}

/** One cluster's lines: its state, errors, events, problems, warnings, leaving targets and targets. */
function clusterLines(c: ClusterStatus): string[] {
  const lines = [
    `cluster ${c.cluster}${c.monitored ? '' : ' (not monitored)'}: generation ${c.generation}, ${c.ipCount} IPs, ${c.tagCount} tags, ${clusterStateText(c)}${c.lastRecomputeAt ? ` at ${c.lastRecomputeAt}` : ''}`,
  ];
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
  return [...lines, ...c.targets.flatMap(targetLines)];
}

function auditLines(report: StatusReport): string[] {
  if (report.audits.length === 0) return [];
  const refreshed = (a: AuditStatus) =>
    report.tagTimeoutMinutes === undefined ? '' : `, tags last refreshed ${a.lastRefreshAt ?? 'never'}`;
  return [
    '',
    'audits:',
    ...report.audits.map(
      (a) =>
        `  ${targetLabel(a)}: last audit ${a.lastAuditAt ?? 'never'} (+${a.registered ?? 0}/-${a.unregistered ?? 0})${refreshed(a)}${a.lastError ? `, last error: ${a.lastError}` : ''}`,
    ),
  ];
}

/** Renders a status report for a terminal. */
export function formatStatus(report: StatusReport): string {
  const q = Object.fromEntries(report.queues.map((x) => [x.name, x.depth]));
  const lines = [
    `queues: ${report.queues.map((x) => `${x.name}=${x.depth}`).join('  ')}`,
    report.tagTimeoutMinutes === undefined
      ? 'tags: persistent (no TAG_TIMEOUT_MINUTES)'
      : `tags: expire ${report.tagTimeoutMinutes} minutes after they were last registered (TAG_TIMEOUT_MINUTES); the audit re-registers them before half of that`,
    '',
  ];
  if (report.clusters.length === 0) lines.push('no clusters yet');
  lines.push(...report.clusters.flatMap(clusterLines), ...auditLines(report));
  const poisoned = (q[poisonQueueName(DELTA_QUEUE)] ?? 0) + (q[poisonQueueName(RECOMPUTE_QUEUE)] ?? 0);
  if (poisoned > 0)
    lines.push(
      '',
      `${poisoned} poisoned messages: run "aks-panorama-sync replay-poison" once the cause is fixed.`,
    );
  return `${lines.join('\n')}\n`;
}
