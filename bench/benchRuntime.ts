import { createAksAdapters } from '../shared/aks/createAksAdapters.js';
import { type AppConfig, loadConfig } from '../shared/config/loadConfig.js';
import type { Settings } from '../shared/config/localSettings.js';
import { silentLogger } from '../shared/logger.js';
import { PanoramaClient } from '../shared/panorama/PanoramaClient.js';
import type { PipelineDeps } from '../shared/pipeline/PipelineDeps.js';
import { createRuntime } from '../shared/runtime/createRuntime.js';

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
