import type { TokenCredential } from '@azure/identity';
import { type CreateAksAdaptersOptions, createAksAdapters } from '../shared/aks/createAksAdapters.js';
import { checkServiceUrl, loadDiscovery, parseClusters } from '../shared/config/loadConfig.js';
import { effectiveSettings } from '../shared/config/localSettings.js';
import { ConfigError, InputError } from '../shared/errors.js';
import type { KubeService } from '../shared/kubernetes/KubeService.js';
import { type Logger, prettyLogger } from '../shared/logger.js';
import type { CliIo } from './CliIo.js';

/** Injection points of {@link loadLiveServices} (tests, the demo). */
export interface LiveServicesDeps {
  /** Azure identity (default: `DefaultAzureCredential`, `AZURE_CLIENT_ID` for a user-assigned identity). */
  credential?: TokenCredential;
  /** PEM CA of an ARM simulator (a real CLI run can use `NODE_EXTRA_CA_CERTS` instead). */
  armTlsCa?: string;
  logger?: Logger;
  kubernetes?: CreateAksAdaptersOptions['kubernetes'];
}

/**
 * The live Services of the configured (or discovered) cluster `clusterName`, read with that
 * cluster's credentials, for `tags --live`. Reads only `CLUSTERS`, `DISCOVERY_*` and
 * `ARM_ENDPOINT` from `effectiveSettings(io.env, io.cwd)` (no Panorama or storage settings needed).
 * Throws {@link InputError} listing the known names when the cluster is unknown.
 */
export async function loadLiveServices(
  clusterName: string,
  io: CliIo,
  deps: LiveServicesDeps = {},
): Promise<KubeService[]> {
  const settings = effectiveSettings(io.env, io.cwd);
  const problems: string[] = [];
  const clusters = parseClusters(settings.CLUSTERS, settings, problems);
  const discovery = loadDiscovery(settings, problems);
  const armEndpoint = (settings.ARM_ENDPOINT?.trim() || 'https://management.azure.com').replace(/\/+$/, '');
  const armProblem = checkServiceUrl('ARM_ENDPOINT', armEndpoint);
  if (armProblem) problems.push(armProblem);
  if (problems.length > 0) throw new ConfigError(problems);

  const logger = deps.logger ?? prettyLogger('warn', io.stderr);
  const adapters = createAksAdapters({
    config: { clusters, ...(discovery ? { discovery } : {}), armEndpoint },
    env: settings,
    logger,
    directory: { resolveNodeResourceGroups: false },
    ...(deps.credential ? { credential: deps.credential } : {}),
    ...(deps.armTlsCa ? { arm: { tlsCa: deps.armTlsCa } } : {}),
    ...(deps.kubernetes ? { kubernetes: deps.kubernetes } : {}),
  });
  const wanted = clusterName.toLowerCase();
  let known = clusters;
  let cluster = clusters.find((c) => c.name.toLowerCase() === wanted);
  if (!cluster && discovery) {
    known = await adapters.clusters.listClusters();
    cluster = known.find((c) => c.name.toLowerCase() === wanted);
  }
  if (!cluster) {
    const names = known.map((c) => c.name).sort();
    const source = discovery ? 'configured in CLUSTERS or discovered by tag' : 'configured in CLUSTERS';
    throw new InputError(
      names.length > 0
        ? `Cluster "${clusterName}" is not ${source}; known clusters: ${names.join(', ')}`
        : `Cluster "${clusterName}" is not ${source}: no clusters are known (set CLUSTERS, or DISCOVERY_SUBSCRIPTIONS and DISCOVERY_TAG)`,
      { cluster: clusterName, known: names },
    );
  }
  return adapters.services.listServices(cluster);
}
