import type { ClusterConfig } from '../config/loadConfig.js';
import { AzureError, describeError, FailureKind } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import type { ArmClients } from './ArmClients.js';
import type { ClusterDirectory, DeleteCheck } from './ClusterDirectory.js';
import { clusterFromManagedCluster, type ManagedClusterSummary } from './clusterFromManagedCluster.js';
import { type DiscoveredClusterDefaults, mergeClusters } from './mergeClusters.js';
import { parseClusterResourceId, resourceIdKey } from './parseClusterResourceId.js';
import { ArmActions, toAzureError } from './toAzureError.js';

/** Options of {@link ArmClusterDirectory}. */
export interface ArmClusterDirectoryOptions {
  /** The `CLUSTERS` entries. */
  clusters: readonly ClusterConfig[];
  /** Discovery by Azure tag (`DISCOVERY_SUBSCRIPTIONS`, `DISCOVERY_TAG`). */
  discovery?: { subscriptions: readonly string[]; tag: string };
  /** What discovered clusters get that an entry would set (`MAX_TAGS_PER_IP`). */
  discoveredDefaults?: DiscoveredClusterDefaults;
  /** ARM clients; needed for discovery and for looking up node resource groups. */
  arm?: ArmClients;
  /** How long a result is reused (default 2 minutes). */
  cacheTtlMs?: number;
  /** How long a previous result may stand in when ARM fails (default 15 minutes; 0 = never). */
  staleOnErrorMs?: number;
  /**
   * Look up (ARM `get`) the node resource group of `CLUSTERS` entries with ARM coordinates but no
   * `nodeResourceGroup` (default true). Failures only warn.
   */
  resolveNodeResourceGroups?: boolean;
  now?: () => number;
  logger?: Logger;
}

interface CacheEntry {
  clusters: ClusterConfig[];
  at: number;
}

/**
 * The monitored clusters: the `CLUSTERS` entries plus, when discovery is configured, every AKS
 * cluster of the discovery subscriptions carrying the discovery tag (`managedClusters.list()`;
 * the tag's value = comma-separated notify device groups). Explicit entries win over discovered
 * clusters with the same resource ID (case-insensitive); a name used by two different clusters is a
 * {@link ConfigError} naming both resource IDs. Each cluster's resource ID and node resource group
 * are recorded for event mapping.
 *
 * Results are cached for `cacheTtlMs`; concurrent callers share one refresh. When ARM fails the
 * call fails (a shorter list could read as deleted clusters), unless a result younger than
 * `staleOnErrorMs` exists, which is then returned with a warning.
 */
export class ArmClusterDirectory implements ClusterDirectory {
  private cache: CacheEntry | undefined;
  private inflight: Promise<ClusterConfig[]> | undefined;
  private readonly now: () => number;
  private readonly logger: Logger;

  constructor(private readonly options: ArmClusterDirectoryOptions) {
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? silentLogger;
  }

  /** The monitored clusters (cached). */
  async listClusters(): Promise<ClusterConfig[]> {
    const ttl = this.options.cacheTtlMs ?? 120_000;
    if (this.cache && this.now() - this.cache.at < ttl) return [...this.cache.clusters];
    return [...(await this.refresh())];
  }

  /** Re-reads ARM now (shared with concurrent callers). */
  refresh(): Promise<ClusterConfig[]> {
    this.inflight ??= this.load().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async load(): Promise<ClusterConfig[]> {
    try {
      const clusters = await this.build();
      this.cache = { clusters, at: this.now() };
      return clusters;
    } catch (err) {
      const stale = this.cache;
      const maxStale = this.options.staleOnErrorMs ?? 15 * 60_000;
      if (stale && err instanceof AzureError && this.now() - stale.at < maxStale) {
        this.logger.warn('cluster discovery failed; using the previous cluster list', {
          error: describeError(err),
          ageMs: this.now() - stale.at,
        });
        return stale.clusters;
      }
      throw err;
    }
  }

  private async build(): Promise<ClusterConfig[]> {
    const { discovery } = this.options;
    const listed = new Map<string, ManagedClusterSummary>();
    const discovered: ClusterConfig[] = [];
    if (discovery) {
      for (const sub of discovery.subscriptions) {
        for (const mc of await this.listSubscription(sub)) {
          if (mc.id) listed.set(resourceIdKey(mc.id), mc);
          const outcome = clusterFromManagedCluster(mc, sub, discovery.tag);
          if (outcome.kind === 'cluster') discovered.push(outcome.cluster);
          if (outcome.kind === 'invalid') {
            this.logger.error('discovered cluster skipped', { problem: outcome.problem, tag: discovery.tag });
          }
        }
      }
    }
    const explicit = await Promise.all(
      this.options.clusters.map((c) => this.withNodeResourceGroup(c, listed)),
    );
    const merged = mergeClusters(explicit, discovered, this.options.discoveredDefaults);
    this.logger.debug('cluster directory refreshed', {
      configured: explicit.length,
      discovered: discovered.length,
      clusters: merged.length,
    });
    return merged;
  }

  private async listSubscription(subscriptionId: string): Promise<ManagedClusterSummary[]> {
    const arm = this.requireArm();
    const out: ManagedClusterSummary[] = [];
    try {
      for await (const mc of arm
        .forSubscription(subscriptionId)
        .managedClusters.list({ abortSignal: arm.operationSignal() })) {
        out.push({
          id: mc.id,
          name: mc.name,
          tags: mc.tags,
          nodeResourceGroup: mc.nodeResourceGroup,
          aadProfile: mc.aadProfile,
        });
      }
    } catch (err) {
      throw toAzureError(err, {
        operation: 'list managed clusters',
        scope: `/subscriptions/${subscriptionId}`,
        ...ArmActions.listClusters,
      });
    }
    return out;
  }

  /** See {@link ClusterDirectory.confirmDeleted}. */
  async confirmDeleted(cluster: ClusterConfig): Promise<DeleteCheck> {
    const parts = cluster.resourceId ? parseClusterResourceId(cluster.resourceId) : undefined;
    const arm = this.options.arm;
    if (!parts || !arm) return 'unconfirmed';
    try {
      await arm.forSubscription(parts.subscriptionId).managedClusters.get(parts.resourceGroup, parts.name, {
        abortSignal: arm.operationSignal(),
      });
      return 'exists';
    } catch (err) {
      const status = (err as { statusCode?: unknown } | null)?.statusCode;
      if (status === 404) return 'gone';
      const error = toAzureError(err, {
        operation: 'read the managed cluster',
        scope: cluster.resourceId ?? cluster.name,
        ...ArmActions.getCluster,
      });
      if (error.kind !== FailureKind.retryable) {
        this.logger.warn('cannot confirm the deletion with ARM; acting on the delete event', {
          cluster: cluster.name,
          error: describeError(error),
        });
        return 'unconfirmed';
      }
      throw error;
    }
  }

  private async withNodeResourceGroup(
    cluster: ClusterConfig,
    listed: ReadonlyMap<string, ManagedClusterSummary>,
  ): Promise<ClusterConfig> {
    if (cluster.nodeResourceGroup || !cluster.resourceId) return cluster;
    const known = listed.get(resourceIdKey(cluster.resourceId))?.nodeResourceGroup;
    if (known) return { ...cluster, nodeResourceGroup: known };
    if (this.options.resolveNodeResourceGroups === false || !this.options.arm) return cluster;
    const parts = parseClusterResourceId(cluster.resourceId);
    if (!parts) return cluster;
    try {
      const mc = await this.options.arm
        .forSubscription(parts.subscriptionId)
        .managedClusters.get(parts.resourceGroup, parts.name, {
          abortSignal: this.options.arm.operationSignal(),
        });
      return mc.nodeResourceGroup ? { ...cluster, nodeResourceGroup: mc.nodeResourceGroup } : cluster;
    } catch (err) {
      const error = toAzureError(err, {
        operation: 'read the managed cluster',
        scope: cluster.resourceId,
        ...ArmActions.getCluster,
      });
      this.logger.warn(
        'cannot look up the node resource group; load-balancer events of this cluster will not be mapped (set "nodeResourceGroup" in CLUSTERS)',
        { cluster: cluster.name, error: error.message },
      );
      return cluster;
    }
  }

  private requireArm(): ArmClients {
    if (!this.options.arm) {
      throw new AzureError('Cluster discovery needs ARM access, but no ARM client was configured', {
        kind: FailureKind.permanent,
      });
    }
    return this.options.arm;
  }
}
