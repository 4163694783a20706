import type { ClusterConfig } from '../config/loadConfig.js';
import { describeError } from '../errors.js';
import { type Logger, withFields } from '../logger.js';
import type { EntryFailure, IpTagEntry, PanoramaApi } from '../panorama/PanoramaApi.js';
import { acceptedPairs, describeRejected } from '../panorama/rejectedEntries.js';
import { type ClusterHead, ConcurrencyConflictError } from '../state/ClusterStateRepository.js';
import { isOwnedBy, OWNED_TAG_PREFIXES } from '../tags/tagGrammar.js';
import { hasCommittedState, isLeased, planRetirement } from './clusterHead.js';
import type { PipelineDeps } from './PipelineDeps.js';
import { targetOptions } from './pushTagDeltas.js';
import { resolveTargets, type TargetInfo, targetStatusFields } from './resolveTargets.js';

/** What the audit did on one target. */
export interface AuditOutcome {
  target: string;
  /** The firewall's hostname, device group and vsys, when the target's device groups were read. */
  hostname?: string;
  deviceGroup?: string;
  vsys?: string;
  status: 'audited' | 'skipped-recent' | 'disconnected' | 'failed';
  clusters: string[];
  /** Clusters that no longer use this target: their owned tags were removed from it. */
  leftBy?: string[];
  /** Owned tags found missing on the device and registered. */
  registered: number;
  /** Owned tags found stale on the device and unregistered. */
  unregistered: number;
  /**
   * Owned tags re-registered (including `registered`) to restart their `TAG_TIMEOUT_MINUTES` timeout,
   * or, once after the timeout was turned off, to register them without one.
   */
  refreshed?: number;
  deviceIps: number;
  /** Entries the device rejected (not counted in `registered` / `unregistered`). */
  failures: number;
  /** The rejected entries with the device's message (at most {@link REJECTED_SAMPLE}). */
  rejected?: EntryFailure[];
  /** With `dryRun`: nothing was sent; the counts are what the audit would do. */
  dryRun?: boolean;
  error?: string;
}

/** How many rejected entries an audit outcome lists. */
export const REJECTED_SAMPLE = 20;

/** Options of {@link auditTargets}. */
export interface AuditOptions {
  /** Audit even targets audited within `auditIntervalMinutes`. */
  force?: boolean;
  /** Only the targets of these clusters (compared with every cluster sharing them). */
  clusters?: readonly string[];
  /** Read the targets and the state, say what would change; write and send nothing. */
  dryRun?: boolean;
}

/** Where the audit goes: per target, the clusters that push there and those that left it. */
interface AuditPlan {
  byTarget: Map<string, Set<string>>;
  leftBy: Map<string, Set<string>>;
  disconnected: Map<string, Set<string>>;
  /** Lower-case names of the clusters whose owned tags the audit may correct. */
  managed: Set<string>;
  heads: Map<string, ClusterHead>;
  /** Hostname, device group and vsys of the firewall targets resolved now. */
  info: Map<string, TargetInfo>;
}

function addTo(m: Map<string, Set<string>>, target: string, cluster: string): void {
  const set = m.get(target) ?? new Set<string>();
  set.add(cluster);
  m.set(target, set);
}

function outcomeOf(target: string, status: AuditOutcome['status'], clusters: string[]): AuditOutcome {
  return { target, status, clusters, registered: 0, unregistered: 0, deviceIps: 0, failures: 0 };
}

/**
 * Drift audit: for every target of every managed cluster, reads back the registered IPs with owned
 * prefixes (paged), compares them with the committed Table state of the clusters that push to that
 * target, and registers missing / unregisters stale owned tags. Tags without the `aks.`/`aks_`
 * prefixes, or of clusters not managed here, are never touched.
 *
 * - A cluster with no committed state yet (its first recompute is running or failing) is left
 *   alone, tags and all: its state does not say which tags it owns.
 * - A target the cluster no longer uses (a firewall left its device groups) gets the cluster's
 *   owned tags removed, unless the device groups resolve to no firewall at all (held, with an error).
 * - The device is read before the state, so a push that lands between the two reads is never undone.
 */
export async function auditTargets(deps: PipelineDeps, options: AuditOptions = {}): Promise<AuditOutcome[]> {
  const dryRun = options.dryRun === true;
  const plan = await planAudit(deps, dryRun);
  const only = options.clusters ? new Set(options.clusters.map((c) => c.toLowerCase())) : undefined;
  const wanted = (clusters: Iterable<string>) =>
    !only || [...clusters].some((c) => only.has(c.toLowerCase()));
  const outcomes: AuditOutcome[] = [];
  const rows = new Map((await deps.targetStatus.listAuditStatus()).map((a) => [a.target, a]));
  for (const [target, clusters] of plan.disconnected) {
    if (plan.byTarget.has(target) || plan.leftBy.has(target) || !wanted(clusters)) continue;
    outcomes.push({ ...outcomeOf(target, 'disconnected', [...clusters]), ...infoFields(plan, target) });
  }
  const targets = [...new Set([...plan.byTarget.keys(), ...plan.leftBy.keys()])].sort();
  for (const target of targets) {
    const clusters = [...(plan.byTarget.get(target) ?? [])].sort();
    const leftBy = [...(plan.leftBy.get(target) ?? [])].sort();
    // With `clusters`, only their targets are audited — but against every cluster sharing the
    // target, so another cluster's tags are never taken for stale.
    if (!wanted([...clusters, ...leftBy])) continue;
    const last = rows.get(target)?.lastAuditAt;
    const refresh = tagRefreshDue(rows.get(target)?.lastRefreshAt, deps);
    const due =
      options.force ||
      dryRun ||
      refresh ||
      leftBy.length > 0 ||
      !last ||
      deps.now().getTime() - Date.parse(last) >= deps.auditIntervalMinutes * 60_000;
    if (!due) {
      outcomes.push(outcomeOf(target, 'skipped-recent', clusters));
      continue;
    }
    const outcome = await auditTarget(deps, plan, { target, clusters, leftBy, dryRun, refresh });
    const cleaned = outcome.status === 'audited' && outcome.failures === 0 && !dryRun;
    if (leftBy.length && cleaned && deps.syncPolicy !== 'upsert-only') {
      for (const cluster of leftBy) await forgetTarget(deps, plan.heads.get(cluster.toLowerCase()), target);
    }
    outcomes.push(outcome);
  }
  return outcomes;
}

/** Resolves where every audited cluster's tags go now, and which targets clusters have left. */
async function planAudit(deps: PipelineDeps, dryRun: boolean): Promise<AuditPlan> {
  const directory = await deps.clusters.listClusters();
  const allHeads = await deps.clusterState.listHeads();
  const inDirectory = new Map<string, ClusterConfig>(directory.map((c) => [c.name.toLowerCase(), c]));
  const synced = new Set(allHeads.filter(hasCommittedState).map((h) => h.cluster.toLowerCase()));
  for (const c of directory) {
    if (!synced.has(c.name.toLowerCase()))
      deps.logger.warn('audit: cluster never synced; its tags on the targets are left alone', {
        cluster: c.name,
      });
  }
  // Audited: monitored clusters with committed state, and deleted ones (tombstones) whose tags must
  // go. A cluster only removed from the configuration is left alone, tags and all.
  const audited = allHeads.filter(
    (h) => hasCommittedState(h) && (inDirectory.has(h.cluster.toLowerCase()) || h.deletedAt),
  );
  const plan: AuditPlan = {
    byTarget: new Map(),
    leftBy: new Map(),
    disconnected: new Map(),
    managed: new Set(audited.map((h) => h.cluster.toLowerCase())),
    heads: new Map(audited.map((h) => [h.cluster.toLowerCase(), h])),
    info: new Map(),
  };
  // Clusters notifying the same device groups share one read of them per pass.
  const panorama = oneReadPerGroups(deps.panorama);
  for (const head of audited) {
    const config = inDirectory.get(head.cluster.toLowerCase());
    const resolved = config ? await resolveOrLast({ ...deps, panorama }, config, head) : undefined;
    const targets = resolved?.targets ?? head.targets;
    for (const target of targets) addTo(plan.byTarget, target, head.cluster);
    for (const target of resolved?.disconnected ?? []) addTo(plan.disconnected, target, head.cluster);
    if (!resolved) continue;
    for (const [target, info] of resolved.info) plan.info.set(target, info);
    for (const problem of resolved.problems)
      deps.logger.error(`audit: targets: ${problem}`, { cluster: head.cluster });
    const retirement = planRetirement(head, resolved);
    if (retirement.held) {
      deps.logger.error(`audit: target removal held: ${retirement.held}`, {
        cluster: head.cluster,
        deviceGroups: config?.deviceGroups.join(','),
      });
    }
    for (const target of retirement.retiring) addTo(plan.leftBy, target, head.cluster);
    if (!dryRun) await recordResolution(deps, head, retirement.retiring, resolved.problems);
  }
  return plan;
}

/** `panorama` whose device-group reads are shared by callers asking for the same groups. */
function oneReadPerGroups(panorama: PanoramaApi): PanoramaApi {
  const reads = new Map<string, ReturnType<PanoramaApi['listDeviceGroupFirewalls']>>();
  return {
    registerTags: (entries, options) => panorama.registerTags(entries, options),
    unregisterTags: (entries, options) => panorama.unregisterTags(entries, options),
    listRegisteredIps: (options) => panorama.listRegisteredIps(options),
    listDeviceGroupFirewalls: (groups) => {
      const key = [...groups].sort().join('\n');
      const read = reads.get(key) ?? panorama.listDeviceGroupFirewalls(groups);
      reads.set(key, read);
      return read;
    },
  };
}

async function resolveOrLast(deps: PipelineDeps, config: ClusterConfig, head: ClusterHead) {
  try {
    return await resolveTargets(config, deps.panorama);
  } catch (err) {
    deps.logger.warn('audit: device groups could not be read; using the targets of the last recompute', {
      cluster: head.cluster,
      error: describeError(err),
    });
    return undefined;
  }
}

/** One target to audit: the clusters pushing there and those that left it. */
interface AuditJob {
  target: string;
  clusters: string[];
  leftBy: string[];
  dryRun: boolean;
  /** Re-register every desired tag (their timeout is due for a restart), not only the missing ones. */
  refresh: boolean;
}

/** Audits one target: reads it back, then corrects the owned tags that differ from the state. */
async function auditTarget(deps: PipelineDeps, plan: AuditPlan, job: AuditJob): Promise<AuditOutcome> {
  const { target, clusters, leftBy } = job;
  const log = withFields(deps.logger, { target, ...infoFields(plan, target), clusters: clusters.join(',') });
  const started = Date.now();
  const base = {
    ...outcomeOf(target, 'audited', clusters),
    ...infoFields(plan, target),
    ...(leftBy.length ? { leftBy } : {}),
  };
  try {
    const opts = targetOptions(target);
    const device = await deps.panorama.listRegisteredIps({ ...opts, tagPrefixes: OWNED_TAG_PREFIXES });
    const desired = await desiredOn(deps, clusters);
    const diff = auditDiff(device, desired, plan.managed);
    const unregister = deps.syncPolicy === 'upsert-only' ? [] : diff.unregister;
    if (job.dryRun) {
      return { ...base, ...pairsOf(diff.register, unregister), deviceIps: device.size, dryRun: true };
    }
    const register = job.refresh ? refreshEntries(desired) : diff.register;
    const rejected: EntryFailure[] = [];
    if (unregister.length) rejected.push(...(await deps.panorama.unregisterTags(unregister, opts)).failures);
    if (register.length) rejected.push(...(await deps.panorama.registerTags(register, opts)).failures);
    const outcome: AuditOutcome = {
      ...base,
      registered: acceptedPairs(diff.register, rejected, 'register'),
      ...(job.refresh ? { refreshed: acceptedPairs(register, rejected, 'register') } : {}),
      unregistered: acceptedPairs(unregister, rejected, 'unregister'),
      deviceIps: device.size,
      failures: rejected.length,
      ...(rejected.length ? { rejected: rejected.slice(0, REJECTED_SAMPLE) } : {}),
    };
    await recordAudited(deps, outcome);
    logAudit(log, outcome, Date.now() - started);
    return outcome;
  } catch (err) {
    const error = describeError(err);
    log.error('audit failed', { error, leftBy: leftBy.join(',') || undefined });
    if (!job.dryRun)
      await deps.targetStatus.recordAudit({
        target,
        ...infoFields(plan, target),
        lastError: error,
        lastErrorAt: deps.now().toISOString(),
      });
    return { ...base, status: 'failed', error };
  }
}

function pairsOf(register: readonly IpTagEntry[], unregister: readonly IpTagEntry[]) {
  const count = (entries: readonly IpTagEntry[]) => entries.reduce((n, e) => n + e.tags.length, 0);
  return { registered: count(register), unregistered: count(unregister) };
}

async function recordAudited(deps: PipelineDeps, outcome: AuditOutcome): Promise<void> {
  const at = deps.now().toISOString();
  const refreshedAt = deps.tagTimeoutMinutes === undefined ? '' : at;
  const { hostname, deviceGroup, vsys } = outcome;
  await deps.targetStatus.recordAudit({
    target: outcome.target,
    ...{ hostname, deviceGroup, vsys },
    lastAuditAt: at,
    ...(outcome.refreshed !== undefined && !outcome.failures ? { lastRefreshAt: refreshedAt } : {}),
    registered: outcome.registered,
    unregistered: outcome.unregistered,
    lastError: outcome.failures
      ? `${outcome.failures} entries rejected: ${describeRejected(outcome.rejected ?? [])}`
      : '',
    ...(outcome.failures ? { lastErrorAt: at } : {}),
  });
}

function logAudit(log: Logger, outcome: AuditOutcome, durationMs: number): void {
  if (outcome.failures) {
    log.error('audit done with rejected entries', {
      deviceIps: outcome.deviceIps,
      registered: outcome.registered,
      unregistered: outcome.unregistered,
      rejectedEntries: outcome.failures,
      sample: describeRejected(outcome.rejected ?? []),
      durationMs,
    });
    return;
  }
  const level =
    outcome.registered || outcome.unregistered || outcome.leftBy || outcome.refreshed ? 'info' : 'debug';
  log[level]('audit done', {
    deviceIps: outcome.deviceIps,
    registered: outcome.registered,
    refreshed: outcome.refreshed,
    unregistered: outcome.unregistered,
    failures: outcome.failures,
    leftBy: outcome.leftBy?.join(','),
    durationMs,
  });
}

/**
 * Whether the audit re-registers every owned tag of a target now. With `TAG_TIMEOUT_MINUTES`: when
 * they were never refreshed, or half the timeout minus one audit interval has passed since, so that
 * the refresh lands before half the timeout even when the next pass comes one interval later
 * (`loadConfig` refuses a timeout below twice the interval). Without it: once, for a target last
 * refreshed under a timeout, so that its tags are registered again without one (persistent) rather
 * than lapse. Pure.
 */
export function tagRefreshDue(
  lastRefreshAt: string | undefined,
  deps: Pick<PipelineDeps, 'now' | 'tagTimeoutMinutes' | 'auditIntervalMinutes'>,
): boolean {
  if (deps.tagTimeoutMinutes === undefined) return Boolean(lastRefreshAt);
  if (!lastRefreshAt) return true;
  const age = deps.now().getTime() - Date.parse(lastRefreshAt);
  const leadMinutes = deps.tagTimeoutMinutes / 2 - deps.auditIntervalMinutes;
  return !(age < leadMinutes * 60_000);
}

/** Every desired (ip, tags) of a target, to register again. */
function refreshEntries(desired: ReadonlyMap<string, ReadonlySet<string>>): IpTagEntry[] {
  return [...desired]
    .filter(([, tags]) => tags.size > 0)
    .map(([ip, tags]) => ({ ip, tags: [...tags].sort() }));
}

async function desiredOn(deps: PipelineDeps, clusters: readonly string[]): Promise<Map<string, Set<string>>> {
  const desired = new Map<string, Set<string>>();
  for (const cluster of clusters) {
    for (const [ip, tags] of await deps.clusterState.readIpTags(cluster)) {
      const set = desired.get(ip) ?? new Set<string>();
      for (const t of tags) set.add(t);
      desired.set(ip, set);
    }
  }
  return desired;
}

/**
 * What the audit sends to one target: the desired tags the device lacks, and the device's tags of
 * managed clusters that no cluster pushing to the target wants.
 */
export function auditDiff(
  device: ReadonlyMap<string, readonly string[]>,
  desired: ReadonlyMap<string, ReadonlySet<string>>,
  managed: ReadonlySet<string>,
): { register: IpTagEntry[]; unregister: IpTagEntry[] } {
  const register: IpTagEntry[] = [];
  const unregister: IpTagEntry[] = [];
  for (const [ip, want] of desired) {
    const have = new Set(device.get(ip) ?? []);
    const missing = [...want].filter((t) => !have.has(t)).sort();
    if (missing.length) register.push({ ip, tags: missing });
  }
  for (const [ip, have] of device) {
    const want = desired.get(ip);
    const stale = [...new Set(have)].filter((t) => isOwnedBy(t, managed) && !want?.has(t)).sort();
    if (stale.length) unregister.push({ ip, tags: stale });
  }
  return { register, unregister };
}

/** Writes a head only when no recompute holds it (a recompute's commit must never lose to the audit). */
async function updateIdleHead(deps: PipelineDeps, head: ClusterHead, next: ClusterHead): Promise<void> {
  if (isLeased(head, deps.now())) return;
  try {
    await deps.clusterState.replaceHead(next);
  } catch (err) {
    if (!(err instanceof ConcurrencyConflictError)) throw err;
  }
}

/**
 * Records which targets a cluster is leaving, so that `status` shows them until they are clean, and
 * what is wrong with its targets now (a device group resolving to no firewall).
 */
async function recordResolution(
  deps: PipelineDeps,
  head: ClusterHead,
  retiring: string[],
  problems: readonly string[],
): Promise<void> {
  const targetProblems = problems.join('\n');
  const sameRetiring = retiring.join(',') === [...head.retiringTargets].sort().join(',');
  if (sameRetiring && targetProblems === (head.targetProblems ?? '')) return;
  await updateIdleHead(deps, head, { ...head, retiringTargets: retiring, targetProblems });
}

/** The hostname, device group and vsys of a target, as resolved by this audit. */
function infoFields(
  plan: AuditPlan,
  target: string,
): Pick<AuditOutcome, 'hostname' | 'deviceGroup' | 'vsys'> {
  const info = plan.info.get(target);
  return info ? targetStatusFields(info) : {};
}

/** After its owned tags are gone from a target the cluster left, the head forgets the target. */
async function forgetTarget(
  deps: PipelineDeps,
  head: ClusterHead | undefined,
  target: string,
): Promise<void> {
  if (!head) return;
  const latest = await deps.clusterState.getHead(head.cluster);
  if (!latest) return;
  await updateIdleHead(deps, latest, {
    ...latest,
    targets: latest.targets.filter((t) => t !== target),
    retiringTargets: latest.retiringTargets.filter((t) => t !== target),
  });
}
