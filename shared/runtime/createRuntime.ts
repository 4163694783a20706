import { randomUUID } from 'node:crypto';
import type { ClusterDirectory } from '../aks/ClusterDirectory.js';
import type { AppConfig } from '../config/loadConfig.js';
import { loadConfig } from '../config/loadConfig.js';
import { effectiveSettings } from '../config/localSettings.js';
import type { ServiceSource } from '../kubernetes/KubeService.js';
import { jsonLogger, type Logger } from '../logger.js';
import { PanoramaClient } from '../panorama/PanoramaClient.js';
import type { PipelineDeps } from '../pipeline/PipelineDeps.js';
import { MessageQueues } from '../queues/MessageQueues.js';
import { CLUSTER_STATE_TABLE, ClusterStateStore } from '../state/ClusterStateStore.js';
import { TARGET_STATE_TABLE, TargetStatusStore } from '../state/TargetStatusStore.js';
import { createCallPermits } from './createCallPermits.js';
import { createStorageClients, type StorageClients } from './storageClients.js';

/**
 * Lease length of a cluster recompute: longer than the function timeout in host.json (10 minutes),
 * so a recompute still running can never lose its lease to another one; a crashed one is taken over
 * once it expires.
 */
export const LEASE_SECONDS = 660;

/**
 * Time budget of one recompute: a minute less than the function timeout in host.json (10 minutes),
 * so a recompute stops before the host gives the invocation up and retries it.
 */
export const RECOMPUTE_BUDGET_MS = 9 * 60_000;

/** The wired service: configuration plus the pipeline's dependencies. */
export interface Runtime {
  config: AppConfig;
  deps: PipelineDeps;
}

/** How a runtime is wired besides its dependencies. */
export interface RuntimeOptions {
  /** Called with a queue's name after every send (the local host's `nudge` wakes its listener). */
  onEnqueue?: (queueName: string) => void;
}

/**
 * Wires the pipeline from a validated configuration: Table/Queue storage, the Panorama client and the
 * AKS adapters. `overrides` replaces any dependency (tests, the demo, the CLI's logger).
 */
export function createRuntime(
  config: AppConfig,
  overrides: Partial<PipelineDeps> = {},
  options: RuntimeOptions = {},
): Runtime {
  const logger: Logger = overrides.logger ?? jsonLogger();
  const storage = createStorageClients(config.storage);
  const aks =
    overrides.clusters && overrides.services
      ? { clusters: overrides.clusters, services: overrides.services }
      : lazyAksAdapters(config, logger);
  const deps: PipelineDeps = {
    clusterState: new ClusterStateStore(storage.table(CLUSTER_STATE_TABLE)),
    targetStatus: new TargetStatusStore(storage.table(TARGET_STATE_TABLE)),
    queues: new MessageQueues(storage.queueService, options.onEnqueue),
    panorama: overrides.panorama ?? panoramaClient(config, storage, logger),
    clusters: aks.clusters,
    services: aks.services,
    logger,
    now: () => new Date(),
    instanceId: `${process.pid}-${randomUUID().slice(0, 8)}`,
    leaseSeconds: LEASE_SECONDS,
    recomputeBudgetMs: RECOMPUTE_BUDGET_MS,
    auditIntervalMinutes: config.auditIntervalMinutes,
    ...(config.panorama.tagTimeoutMinutes ? { tagTimeoutMinutes: config.panorama.tagTimeoutMinutes } : {}),
    ...(config.eventGridSubscriptions ? { eventGridSubscriptions: config.eventGridSubscriptions } : {}),
    busyRetrySeconds: 10,
    syncPolicy: config.syncPolicy,
    removalGuard: config.removalGuard,
    ...overrides,
  };
  return { config, deps };
}

/**
 * The AKS adapters (cluster directory, Service harvest), wired on first use: ARM and the Kubernetes
 * client are loaded by dynamic import, so pushes and replays never load them and the app's import
 * (its cold start) stays small; `npm run package` bundles them as a separate chunk (docs/deploy.md).
 */
function lazyAksAdapters(
  config: AppConfig,
  logger: Logger,
): { clusters: ClusterDirectory; services: ServiceSource } {
  let loading: Promise<{ clusters: ClusterDirectory; services: ServiceSource }> | undefined;
  const load = () =>
    (loading ??= import('../aks/createAksAdapters.js')
      .then((m) => m.createAksAdapters({ config, logger }))
      .catch((error: unknown) => {
        loading = undefined;
        throw error;
      }));
  return {
    clusters: {
      listClusters: async () => (await load()).clusters.listClusters(),
      confirmDeleted: async (cluster) => (await load()).clusters.confirmDeleted(cluster),
    },
    services: { listServices: async (cluster) => (await load()).services.listServices(cluster) },
  };
}

/** The Panorama client of the app: every call holds a permit of the limit all instances share. */
function panoramaClient(config: AppConfig, storage: StorageClients, logger: Logger): PanoramaClient {
  const permits = createCallPermits(config, storage, logger);
  return new PanoramaClient(config.panorama, { logger, ...(permits ? { permits } : {}) });
}

let shared: Runtime | undefined;

/**
 * The process-wide runtime the functions use. In the Functions host the worker's environment is the
 * app's settings: the configuration is read from it (and `local.settings.json`) on first use,
 * validated and wired; a configuration error is thrown on every call. A host that runs the functions
 * in-process (`dev`, tests, benchmarks) installs its own with {@link setRuntime} before the first
 * invocation (`startLocalHost`'s `beforeStart`).
 */
export function getRuntime(): Runtime {
  shared ??= createRuntime(loadConfig(effectiveSettings()));
  return shared;
}

/** Installs the process-wide runtime (an in-process host) or clears it (`undefined`). */
export function setRuntime(runtime: Runtime | undefined): void {
  shared = runtime;
}

/** The same dependencies with another logger (per invocation). */
export function withLogger(deps: PipelineDeps, logger: Logger): PipelineDeps {
  return { ...deps, logger };
}
