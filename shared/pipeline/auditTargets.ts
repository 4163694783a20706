import type { ClusterConfig } from '../config/loadConfig.js';
import { describeError } from '../errors.js';
import { withFields } from '../logger.js';
import type { IpTagEntry } from '../panorama/PanoramaApi.js';
import { OWNED_TAG_PREFIXES } from '../tags/IpTagMap.js';
import type { PipelineDeps } from './PipelineDeps.js';
import { targetOptions } from './pushTagDeltas.js';
import { resolveTargets } from './resolveTargets.js';
import { isOwnedBy } from './tagOwnership.js';

/** What the audit did on one target. */
export interface AuditOutcome {
  target: string;
  status: 'audited' | 'skipped-recent' | 'disconnected' | 'failed';
  clusters: string[];
  /** Owned tags found missing on the device and registered. */
  registered: number;
  /** Owned tags found stale on the device and unregistered. */
  unregistered: number;
  deviceIps: number;
  failures: number;
  error?: string;
}

/**
 * Drift audit (invariant 6): for every target of every managed cluster, reads back the registered
 * IPs with owned prefixes (paged), compares them with the committed Table state of the clusters that
 * push to that target, and registers missing / unregisters stale owned tags. Tags without the
 * `aks.`/`aks_` prefixes, or of clusters not managed here, are never touched.
 *
 * The device is read before the state, so a push that lands between the two reads is never undone.
 */
export async function auditTargets(
  deps: PipelineDeps,
  options: { force?: boolean; clusters?: readonly string[] } = {},
): Promise<AuditOutcome[]> {
  const directory = await deps.clusters.listClusters();
  const heads = await deps.state.listHeads();
  const inDirectory = new Map<string, ClusterConfig>(directory.map((c) => [c.name.toLowerCase(), c]));
  // Audited: monitored clusters, and deleted ones (tombstones) whose tags must go. A cluster only
  // removed from the configuration is left alone, tags and all.
  const audited = heads.filter((h) => inDirectory.has(h.cluster.toLowerCase()) || h.deletedAt);
  const managed = new Set<string>([...inDirectory.keys(), ...audited.map((h) => h.cluster.toLowerCase())]);
  const only = options.clusters ? new Set(options.clusters.map((c) => c.toLowerCase())) : undefined;

  const byTarget = new Map<string, Set<string>>();
  const disconnected = new Map<string, Set<string>>();
  const add = (m: Map<string, Set<string>>, target: string, cluster: string) => {
    const set = m.get(target) ?? new Set<string>();
    set.add(cluster);
    m.set(target, set);
  };
  for (const head of audited) {
    const config = inDirectory.get(head.cluster.toLowerCase());
    let resolved: { targets: string[]; disconnected: string[] } = { targets: head.targets, disconnected: [] };
    if (config) {
      try {
        resolved = await resolveTargets(config, deps.panorama);
      } catch (err) {
        deps.logger.warn('audit: device groups could not be read; using the targets of the last recompute', {
          cluster: head.cluster,
          error: describeError(err),
        });
      }
    }
    for (const target of resolved.targets) add(byTarget, target, head.cluster);
    for (const target of resolved.disconnected) add(disconnected, target, head.cluster);
  }

  const outcomes: AuditOutcome[] = [];
  const recent = new Map((await deps.status.listAuditStatus()).map((a) => [a.target, a.lastAuditAt]));
  for (const [target, clusters] of disconnected) {
    if (byTarget.has(target) || (only && ![...clusters].some((c) => only.has(c.toLowerCase())))) continue;
    outcomes.push({
      target,
      status: 'disconnected',
      clusters: [...clusters],
      registered: 0,
      unregistered: 0,
      deviceIps: 0,
      failures: 0,
    });
  }
  for (const [target, clusterSet] of [...byTarget].sort(([a], [b]) => a.localeCompare(b))) {
    const clusters = [...clusterSet].sort();
    // With `clusters`, only their targets are audited — but against every cluster sharing the
    // target, so another cluster's tags are never taken for stale.
    if (only && !clusters.some((c) => only.has(c.toLowerCase()))) continue;
    const log = withFields(deps.logger, { target, clusters: clusters.join(',') });
    const last = recent.get(target);
    if (
      !options.force &&
      last &&
      deps.now().getTime() - Date.parse(last) < deps.auditIntervalMinutes * 60_000
    ) {
      outcomes.push({
        target,
        status: 'skipped-recent',
        clusters,
        registered: 0,
        unregistered: 0,
        deviceIps: 0,
        failures: 0,
      });
      continue;
    }
    const started = Date.now();
    try {
      const opts = targetOptions(target);
      const device = await deps.panorama.listRegisteredIps({ ...opts, tagPrefixes: OWNED_TAG_PREFIXES });
      const desired = new Map<string, Set<string>>();
      for (const cluster of clusters) {
        for (const [ip, tags] of await deps.state.readIpTags(cluster)) {
          const set = desired.get(ip) ?? new Set<string>();
          for (const t of tags) set.add(t);
          desired.set(ip, set);
        }
      }
      const register: IpTagEntry[] = [];
      const unregister: IpTagEntry[] = [];
      for (const [ip, want] of desired) {
        const have = new Set(device.get(ip) ?? []);
        const missing = [...want].filter((t) => !have.has(t)).sort();
        if (missing.length) register.push({ ip, tags: missing });
      }
      for (const [ip, have] of device) {
        const want = desired.get(ip);
        const stale = have.filter((t) => isOwnedBy(t, managed) && !want?.has(t));
        if (stale.length) unregister.push({ ip, tags: stale });
      }
      let failures = 0;
      if (unregister.length)
        failures += (await deps.panorama.unregisterTags(unregister, opts)).failures.length;
      if (register.length) failures += (await deps.panorama.registerTags(register, opts)).failures.length;
      const outcome: AuditOutcome = {
        target,
        status: 'audited',
        clusters,
        registered: register.reduce((n, e) => n + e.tags.length, 0),
        unregistered: unregister.reduce((n, e) => n + e.tags.length, 0),
        deviceIps: device.size,
        failures,
      };
      await deps.status.recordAudit({
        target,
        lastAuditAt: deps.now().toISOString(),
        registered: outcome.registered,
        unregistered: outcome.unregistered,
        lastError: failures ? `${failures} entries rejected` : '',
      });
      const level = outcome.registered || outcome.unregistered ? 'info' : 'debug';
      log[level]('audit done', {
        deviceIps: device.size,
        registered: outcome.registered,
        unregistered: outcome.unregistered,
        failures,
        durationMs: Date.now() - started,
      });
      outcomes.push(outcome);
    } catch (err) {
      const error = describeError(err);
      log.error('audit failed', { error });
      await deps.status.recordAudit({ target, lastError: error, lastErrorAt: deps.now().toISOString() });
      outcomes.push({
        target,
        status: 'failed',
        clusters,
        registered: 0,
        unregistered: 0,
        deviceIps: 0,
        failures: 0,
        error,
      });
    }
  }
  return outcomes;
}
