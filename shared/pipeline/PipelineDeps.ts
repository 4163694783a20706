import type { ClusterDirectory } from '../aks/ClusterDirectory.js';
import type { ServiceSource } from '../kubernetes/KubeService.js';
import type { Logger } from '../logger.js';
import type { PanoramaApi } from '../panorama/PanoramaApi.js';
import type { PipelineQueues } from '../queues/PipelineQueues.js';
import type { ClusterStateRepository } from '../state/ClusterStateRepository.js';
import type { TargetStatusRepository } from '../state/TargetStatusRepository.js';
import type { RemovalGuard, SyncPolicy } from './removalGuard.js';

/**
 * The write phases of a recompute, in order: announce the pending generation, enqueue the delta
 * messages, write the generation's state snapshot, commit (generation, snapshot pointer and lease release in one head write).
 */
export type RecomputePhase = 'announce' | 'enqueue' | 'write-snapshot' | 'commit';

/** Everything the pipeline steps use, passed as one object (adapters behind small interfaces). */
export interface PipelineDeps {
  clusterState: ClusterStateRepository;
  targetStatus: TargetStatusRepository;
  queues: PipelineQueues;
  panorama: PanoramaApi;
  clusters: ClusterDirectory;
  services: ServiceSource;
  logger: Logger;
  /** Current time (injected for tests). */
  now: () => Date;
  /** Identifies this process as a lease owner. */
  instanceId: string;
  /** How long a cluster lease lasts: longer than the function timeout, so a running recompute keeps it. */
  leaseSeconds: number;
  /**
   * How long one recompute may run before it stops (retryable): shorter than the function timeout
   * and the lease, so a recompute never writes after its invocation is given up.
   */
  recomputeBudgetMs: number;
  /**
   * Called before each write phase of a recompute (tests inject crashes by phase name; production
   * leaves it unset). A throw ends the recompute there, as a crash would.
   */
  onRecomputePhase?: (phase: RecomputePhase, cluster: string) => void;
  /** Minutes between two audits of the same target. */
  auditIntervalMinutes: number;
  /** `TAG_TIMEOUT_MINUTES`: the audit keeps timed tags refreshed (see `auditTargets`); absent = persistent. */
  tagTimeoutMinutes?: number;
  /** `EVENT_GRID_SUBSCRIPTIONS`: subscriptions whose ARM events reach the app; absent = unknown. `status` shows the rest as timer-only. */
  eventGridSubscriptions?: readonly string[];
  /** Seconds before a recompute that found the cluster busy is tried again. */
  busyRetrySeconds: number;
  /** `SYNC_POLICY`: `upsert-only` never unregisters anything (recompute, push and audit). */
  syncPolicy: SyncPolicy;
  /** `REMOVAL_GUARD_PERCENT` / `REMOVAL_GUARD_MIN`: when a recompute's removals are held. */
  removalGuard: RemovalGuard;
}
