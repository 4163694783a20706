import type { ClusterDirectory } from '../aks/ClusterDirectory.js';
import type { ServiceSource } from '../kubernetes/KubeService.js';
import type { Logger } from '../logger.js';
import type { PanoramaApi } from '../panorama/PanoramaApi.js';
import type { PipelineQueues } from '../queues/PipelineQueues.js';
import type { ClusterStateRepository } from '../state/ClusterStateRepository.js';
import type { TargetStatusRepository } from '../state/TargetStatusRepository.js';

/** Everything the pipeline steps use, passed as one object (adapters behind small interfaces). */
export interface PipelineDeps {
  state: ClusterStateRepository;
  status: TargetStatusRepository;
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
  /** Minutes between two audits of the same target. */
  auditIntervalMinutes: number;
  /** Seconds before a recompute that found the cluster busy is tried again. */
  busyRetrySeconds: number;
}
