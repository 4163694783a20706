import { type AzuriteServer, startAzurite } from '../host/azurite.js';
import { createAksAdapters } from '../shared/aks/createAksAdapters.js';
import { type AppConfig, loadConfig } from '../shared/config/loadConfig.js';
import type { Settings } from '../shared/config/localSettings.js';
import { silentLogger } from '../shared/logger.js';
import { PanoramaClient } from '../shared/panorama/PanoramaClient.js';
import type { PipelineDeps } from '../shared/pipeline/PipelineDeps.js';
import { createRuntime } from '../shared/runtime/createRuntime.js';
import {
  type KubernetesSimulator,
  startKubernetesSimulator,
} from '../sim/kubernetes/startKubernetesSimulator.js';
import { type PanoramaSimulator, startPanoramaSimulator } from '../sim/panorama/startPanoramaSimulator.js';
import { BENCH_SELECTORS, benchServices } from './workload.js';

/**
 * The pipeline's dependencies from app settings, wired as in production (Table/Queue storage, the
 * Panorama client, the AKS adapters over CLUSTERS) with a silent logger, so logging costs nothing.
 */
export function benchDeps(settings: Settings): { config: AppConfig; deps: PipelineDeps } {
  const config = loadConfig(settings);
  const aks = createAksAdapters({
    config,
    logger: silentLogger,
    directory: { resolveNodeResourceGroups: false },
  });
  const { deps } = createRuntime(config, {
    logger: silentLogger,
    panorama: new PanoramaClient(config.panorama, { logger: silentLogger }),
    clusters: aks.clusters,
    services: aks.services,
  });
  return { config, deps };
}

/** The CLUSTERS entry of a benchmark cluster served by a Kubernetes simulator. */
export function benchClusterSetting(options: {
  name: string;
  server: string;
  caData: string | undefined;
  token: string;
  labelSelectors: readonly { name: string; selector: string }[];
  deviceGroups: readonly string[];
  subscriptionId?: string;
  nodeResourceGroup?: string;
}): Record<string, unknown> {
  const subscriptionId = options.subscriptionId ?? '22222222-2222-2222-2222-222222222222';
  return {
    name: options.name,
    subscriptionId,
    resourceGroup: `rg-${options.name}`,
    nodeResourceGroup: options.nodeResourceGroup ?? `MC_rg-${options.name}_${options.name}_westeurope`,
    server: options.server,
    ...(options.caData ? { caData: options.caData } : {}),
    auth: { type: 'token', token: options.token },
    labelSelectors: options.labelSelectors,
    deviceGroups: options.deviceGroups,
  };
}

/** Azurite, a Panorama simulator with one device group and a Kubernetes simulator with one cluster. */
export interface BenchWorld {
  azurite: AzuriteServer;
  panorama: PanoramaSimulator;
  kube: KubernetesSimulator;
  /** App settings wiring the service to them. */
  settings: Record<string, string>;
  cluster: string;
  stop(): Promise<void>;
}

/** Starts a {@link BenchWorld}; everything started is stopped again if a later step fails. */
export async function startBenchWorld(options: {
  cluster: string;
  services: number;
  deviceGroup: string;
  firewalls: readonly string[];
  recordCalls: boolean;
  subscriptionId?: string;
  nodeResourceGroup?: string;
  extraSettings?: Record<string, string>;
}): Promise<BenchWorld> {
  const azurite = await startAzurite();
  let panorama: PanoramaSimulator | undefined;
  let kube: KubernetesSimulator | undefined;
  try {
    panorama = await startPanoramaSimulator({
      deviceGroups: { [options.deviceGroup]: options.firewalls.map((serial) => ({ serial })) },
      duplicateMode: 'silent',
      recordCalls: options.recordCalls,
    });
    kube = await startKubernetesSimulator({ services: benchServices(options.services) });
    const settings: Record<string, string> = {
      AzureWebJobsStorage: azurite.connectionString,
      PANORAMA_URL: panorama.url,
      PANORAMA_API_KEY: panorama.apiKey,
      CLUSTERS: JSON.stringify([
        benchClusterSetting({
          name: options.cluster,
          server: kube.url,
          caData: kube.caData,
          token: kube.token,
          labelSelectors: BENCH_SELECTORS,
          deviceGroups: [options.deviceGroup],
          ...(options.subscriptionId ? { subscriptionId: options.subscriptionId } : {}),
          ...(options.nodeResourceGroup ? { nodeResourceGroup: options.nodeResourceGroup } : {}),
        }),
      ]),
      ...options.extraSettings,
    };
    const [p, k] = [panorama, kube];
    return {
      azurite,
      panorama: p,
      kube: k,
      settings,
      cluster: options.cluster,
      async stop() {
        await k.stop();
        await p.stop();
        await azurite.stop();
      },
    };
  } catch (err) {
    await kube?.stop();
    await panorama?.stop();
    await azurite.stop();
    throw err;
  }
}
