import type { TokenCredential } from '@azure/identity';
import type { AppConfig } from '../config/loadConfig.js';
import type { Settings } from '../config/localSettings.js';
import {
  KubernetesServiceSource,
  type KubernetesServiceSourceOptions,
} from '../kubernetes/KubernetesServiceSource.js';
import type { Logger } from '../logger.js';
import { ArmClients, type ArmConnection } from './ArmClients.js';
import { ArmClusterDirectory, type ArmClusterDirectoryOptions } from './ArmClusterDirectory.js';
import { createAzureCredential } from './createAzureCredential.js';
import { KubeCredentialProvider, type KubeCredentialProviderOptions } from './KubeCredentialProvider.js';

/** What {@link createAksAdapters} needs. */
export interface CreateAksAdaptersOptions {
  /** The validated configuration, or just the parts the AKS side reads. */
  config: Pick<AppConfig, 'clusters' | 'discovery'> & { armEndpoint?: string; maxTagsPerIp?: number };
  /** The Azure identity for ARM and AKS Entra ID tokens (default {@link createAzureCredential}, built on first use). */
  credential?: TokenCredential;
  /** Settings for the default credential (`AZURE_CLIENT_ID`); default `process.env`. */
  env?: Settings;
  logger?: Logger;
  /** Extra ARM connection settings: a simulator's CA, shorter SDK retries in tests. */
  arm?: Omit<ArmConnection, 'endpoint'>;
  /** Cluster-directory tuning (cache, stale fallback, node resource group look-ups). */
  directory?: Pick<ArmClusterDirectoryOptions, 'cacheTtlMs' | 'staleOnErrorMs' | 'resolveNodeResourceGroups'>;
  /** Credential tuning (token refresh margin, ARM endpoint TTL). */
  credentials?: Pick<KubeCredentialProviderOptions, 'refreshMarginMs' | 'endpointTtlMs'>;
  /** Harvest tuning (page size, retries, timeouts, injected delay). */
  kubernetes?: Omit<KubernetesServiceSourceOptions, 'access' | 'logger'>;
  now?: () => number;
}

/** The AKS side of the pipeline, wired. */
export interface AksAdapters {
  clusters: ArmClusterDirectory;
  services: KubernetesServiceSource;
  credentials: KubeCredentialProvider;
  arm: ArmClients;
}

/**
 * Wires the AKS adapters in one call: the cluster directory (CLUSTERS + tag discovery), per-cluster
 * credentials (Entra ID token or service-account token) and the Service harvester.
 *
 * @example
 * const { clusters, services } = createAksAdapters({ config, logger });
 * for (const cluster of await clusters.listClusters()) await services.listServices(cluster);
 */
export function createAksAdapters(options: CreateAksAdaptersOptions): AksAdapters {
  let credential = options.credential;
  const getCredential = (): TokenCredential => {
    credential ??= createAzureCredential(options.env ?? process.env);
    return credential;
  };
  const now = options.now ?? Date.now;
  const arm = new ArmClients(
    { endpoint: options.config.armEndpoint ?? 'https://management.azure.com', ...options.arm },
    getCredential,
  );
  const credentials = new KubeCredentialProvider({
    credential: getCredential,
    arm,
    now,
    ...options.credentials,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const clusters = new ArmClusterDirectory({
    clusters: options.config.clusters,
    ...(options.config.discovery ? { discovery: options.config.discovery } : {}),
    ...(options.config.maxTagsPerIp
      ? { discoveredDefaults: { maxTagsPerIp: options.config.maxTagsPerIp } }
      : {}),
    arm,
    now,
    ...options.directory,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const services = new KubernetesServiceSource({
    access: credentials,
    ...options.kubernetes,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return { clusters, services, credentials, arm };
}
