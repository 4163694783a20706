import type { ClusterDirectory } from '../../shared/aks/ClusterDirectory.js';
import type { ClusterConfig } from '../../shared/config/loadConfig.js';
import type { KubeService, ServiceSource } from '../../shared/kubernetes/KubeService.js';
import { memoryLogger } from '../../shared/logger.js';
import type { ManagedFirewall, PanoramaApi } from '../../shared/panorama/PanoramaApi.js';
import type { PipelineDeps } from '../../shared/pipeline/PipelineDeps.js';
import { DEFAULT_REMOVAL_GUARD } from '../../shared/pipeline/removalGuard.js';
import { MemoryClusterState, MemoryQueues, MemoryTargetStatus } from './memoryStores.js';

const unused = () => Promise.reject(new Error('this test does not expect a call to the device'));

/** What {@link memoryDeps} builds, with the concrete fakes for assertions. */
export interface MemoryWorld {
  deps: PipelineDeps;
  clusterState: MemoryClusterState;
  targetStatus: MemoryTargetStatus;
  queues: MemoryQueues;
  /** The Services the cluster serves (mutable: push or splice to change the cluster). */
  services: KubeService[];
  logs: ReturnType<typeof memoryLogger>;
}

/**
 * Pipeline dependencies on in-memory storage for unit tests of the steps: `clusters` are monitored,
 * each serving `services`; Panorama only answers `show devicegroups` with `firewalls` (any register,
 * unregister or read-back rejects). `overrides` replaces any dependency.
 */
export function memoryDeps(options: {
  clusters: ClusterConfig[];
  services?: KubeService[];
  firewalls?: ManagedFirewall[];
  now?: Date;
  overrides?: Partial<PipelineDeps>;
}): MemoryWorld {
  const now = options.now ?? new Date('2025-03-01T10:00:00.000Z');
  const clusterState = new MemoryClusterState();
  const targetStatus = new MemoryTargetStatus();
  const queues = new MemoryQueues({ now: () => now.getTime() });
  const services = options.services ?? [];
  const logs = memoryLogger('debug');
  const clusters: ClusterDirectory = {
    listClusters: async () => options.clusters,
    confirmDeleted: async () => 'gone',
  };
  const source: ServiceSource = { listServices: async () => services };
  const panorama: PanoramaApi = {
    registerTags: unused,
    unregisterTags: unused,
    listRegisteredIps: unused,
    listDeviceGroupFirewalls: async () => options.firewalls ?? [],
  };
  const deps: PipelineDeps = {
    clusterState,
    targetStatus,
    queues,
    panorama,
    clusters,
    services: source,
    logger: logs,
    now: () => now,
    instanceId: 'memory-1',
    leaseSeconds: 660,
    recomputeBudgetMs: 60_000,
    auditIntervalMinutes: 60,
    busyRetrySeconds: 10,
    syncPolicy: 'sync',
    removalGuard: DEFAULT_REMOVAL_GUARD,
    ...options.overrides,
  };
  return { deps, clusterState, targetStatus, queues, services, logs };
}
