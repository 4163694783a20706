import { type AzuriteServer, startAzurite } from '../../host/azurite.js';
import { createAksAdapters } from '../../shared/aks/createAksAdapters.js';
import { type AppConfig, loadConfig } from '../../shared/config/loadConfig.js';
import type { KubeService } from '../../shared/kubernetes/KubeService.js';
import { memoryLogger } from '../../shared/logger.js';
import { PanoramaClient } from '../../shared/panorama/PanoramaClient.js';
import { drainDeltaQueue } from '../../shared/pipeline/drainDeltaQueue.js';
import type { PipelineDeps } from '../../shared/pipeline/PipelineDeps.js';
import { RECOMPUTE_STEP } from '../../shared/pipeline/queueSteps.js';
import { type RecomputeOutcome, recomputeCluster } from '../../shared/pipeline/recomputeCluster.js';
import { decodeMessage } from '../../shared/queues/MessageQueues.js';
import { runQueueStep } from '../../shared/queues/QueueStep.js';
import { RECOMPUTE_QUEUE } from '../../shared/queues/queueNames.js';
import { createRuntime } from '../../shared/runtime/createRuntime.js';
import { type ArmSimulator, startArmSimulator } from '../../sim/arm/startArmSimulator.js';
import { makeService } from '../../sim/kubernetes/makeService.js';
import {
  type KubernetesSimulator,
  startKubernetesSimulator,
} from '../../sim/kubernetes/startKubernetesSimulator.js';
import { type PanoramaHaPair, startPanoramaHaPair } from '../../sim/panorama/startPanoramaHaPair.js';
import {
  type PanoramaSimulator,
  type SimFirewallSpec,
  startPanoramaSimulator,
} from '../../sim/panorama/startPanoramaSimulator.js';

export const SUBSCRIPTION = '11111111-1111-1111-1111-111111111111';

/** A cluster of the test world. */
export interface WorldCluster {
  name: string;
  deviceGroups?: string[];
  labelSelectors?: { name: string; selector: string }[];
  services?: KubeService[];
}

/** Azurite + Panorama simulator + one Kubernetes simulator per cluster, wired to the real pipeline. */
export interface PipelineWorld {
  azurite: AzuriteServer;
  /** The Panorama simulator (with `ha`: the pair's primary; both peers serve one model). */
  panorama: PanoramaSimulator;
  /** With `ha`: the Panorama HA pair `PANORAMA_URL` names. */
  haPair?: PanoramaHaPair;
  /** ARM, holding every cluster of the world (delete events are confirmed against it). */
  arm: ArmSimulator;
  kube: Map<string, KubernetesSimulator>;
  config: AppConfig;
  deps: PipelineDeps;
  logs: ReturnType<typeof memoryLogger>;
  /** Dependencies as another instance would have them (another lease owner). */
  otherInstance(): PipelineDeps;
  /** Requests a recompute now (as an event would) and runs it directly. */
  recompute(cluster: string, options?: { deleted?: boolean; deps?: PipelineDeps }): Promise<RecomputeOutcome>;
  /** Processes the `cluster-recompute` queue until it is empty (host semantics: delete on success). */
  drainRecomputes(): Promise<RecomputeOutcome[]>;
  /** Processes the `tag-deltas` queue until it is empty. */
  drainDeltas(maxDequeueCount?: number): ReturnType<typeof drainDeltaQueue>;
  /** Recompute everything queued, then push everything queued. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export function nodeResourceGroup(cluster: string): string {
  return `MC_rg-${cluster}_${cluster}_westeurope`;
}

/** Starts a world; each world has its own Azurite so test files never share queues or tables. */
export async function startPipelineWorld(options: {
  clusters: WorldCluster[];
  deviceGroups?: Record<string, readonly SimFirewallSpec[]>;
  duplicateMode?: 'error' | 'silent';
  /** Serve Panorama as an HA pair (`startPanoramaHaPair`; the primary starts active). */
  ha?: boolean;
  /** More app settings (e.g. `TAG_TIMEOUT_MINUTES`). */
  settings?: Record<string, string>;
}): Promise<PipelineWorld> {
  const azurite = await startAzurite();
  const simOptions = {
    ...(options.deviceGroups ? { deviceGroups: options.deviceGroups } : {}),
    ...(options.duplicateMode ? { duplicateMode: options.duplicateMode } : {}),
  };
  const haPair = options.ha ? await startPanoramaHaPair(simOptions) : undefined;
  const panorama = haPair ? haPair.primary : await startPanoramaSimulator(simOptions);
  const armToken = 'pipeline-world-arm-token';
  const arm = await startArmSimulator({
    token: armToken,
    subscriptions: [SUBSCRIPTION],
    clusters: options.clusters.map((c) => ({
      subscriptionId: SUBSCRIPTION,
      resourceGroup: `rg-${c.name}`,
      name: c.name,
      nodeResourceGroup: nodeResourceGroup(c.name),
    })),
  });
  const kube = new Map<string, KubernetesSimulator>();
  for (const c of options.clusters) {
    kube.set(c.name, await startKubernetesSimulator({ services: c.services ?? [] }));
  }
  const clusters = options.clusters.map((c) => {
    const sim = kube.get(c.name) as KubernetesSimulator;
    return {
      name: c.name,
      subscriptionId: SUBSCRIPTION,
      resourceGroup: `rg-${c.name}`,
      nodeResourceGroup: nodeResourceGroup(c.name),
      server: sim.url,
      caData: sim.caData,
      auth: { type: 'token', token: sim.token },
      labelSelectors: c.labelSelectors ?? [],
      deviceGroups: c.deviceGroups ?? [],
    };
  });
  const config = loadConfig({
    AzureWebJobsStorage: azurite.connectionString,
    PANORAMA_URL: haPair ? haPair.url : panorama.url,
    PANORAMA_API_KEY: panorama.apiKey,
    PANORAMA_TIMEOUT_MS: '5000',
    CLUSTERS: JSON.stringify(clusters),
    ARM_ENDPOINT: arm.url,
    ...options.settings,
  });
  const logs = memoryLogger('debug');
  const build = (): PipelineDeps => {
    const aks = createAksAdapters({
      config,
      logger: logs,
      directory: { resolveNodeResourceGroups: false },
      credential: {
        getToken: async () => ({ token: armToken, expiresOnTimestamp: Date.now() + 3_600_000 }),
      },
      arm: { tlsCa: arm.caPem, retryOptions: { maxRetries: 1, retryDelayInMs: 1, maxRetryDelayInMs: 2 } },
      kubernetes: { delay: async () => {} },
    });
    return createRuntime(config, {
      logger: logs,
      panorama: new PanoramaClient(config.panorama, { logger: logs }),
      clusters: aks.clusters,
      services: aks.services,
      busyRetrySeconds: 1,
    }).deps;
  };
  const deps = build();

  const world: PipelineWorld = {
    azurite,
    panorama,
    ...(haPair ? { haPair } : {}),
    arm,
    kube,
    config,
    deps,
    logs,
    otherInstance: build,
    recompute: (cluster, o = {}) =>
      recomputeCluster(
        {
          v: 1,
          cluster,
          reason: 'test',
          requestedAt: new Date().toISOString(),
          ...(o.deleted ? { deleted: true } : {}),
        },
        o.deps ?? deps,
      ),
    async drainRecomputes() {
      const outcomes: RecomputeOutcome[] = [];
      for (let round = 0; round < 200; round++) {
        const batch = await deps.queues.receive(RECOMPUTE_QUEUE, 16, 30);
        if (batch.length === 0) {
          if ((await deps.queues.depth(RECOMPUTE_QUEUE)) === 0) return outcomes;
          await new Promise((r) => setTimeout(r, 250));
          continue;
        }
        for (const m of batch) {
          outcomes.push(await runQueueStep(RECOMPUTE_STEP, decodeMessage(m.messageText), deps));
          await deps.queues.delete(RECOMPUTE_QUEUE, m);
        }
      }
      throw new Error('recompute queue did not drain');
    },
    drainDeltas: (maxDequeueCount = 5) =>
      drainDeltaQueue(deps, { maxDequeueCount, retryDelaySeconds: 0, budgetMs: 60_000 }),
    async settle() {
      await world.drainRecomputes();
      await world.drainDeltas();
    },
    async stop() {
      await (haPair ?? panorama).stop();
      await arm.stop();
      for (const k of kube.values()) await k.stop();
      await azurite.stop();
    },
  };
  return world;
}

/** An internal LoadBalancer Service with the given IPs and labels. */
export function internalService(
  namespace: string,
  name: string,
  ips: string[],
  labels: Record<string, string> = {},
): KubeService {
  return makeService({ namespace, name, ips, labels });
}

/** Registered IPs of a target as a plain object (sorted keys) for readable assertions. */
export function registeredObject(panorama: PanoramaSimulator, target?: string): Record<string, string[]> {
  const map = panorama.registered(target);
  return Object.fromEntries([...map.keys()].sort().map((ip) => [ip, map.get(ip) ?? []]));
}
