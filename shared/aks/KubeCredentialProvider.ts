import type { TokenCredential } from '@azure/identity';
import { KubeConfig } from '@kubernetes/client-node';
import { checkServiceUrl } from '../config/checkServiceUrl.js';
import type { ClusterConfig } from '../config/loadConfig.js';
import { AzureError, FailureKind } from '../errors.js';
import type { KubeAccess, KubeAccessProvider } from '../kubernetes/KubernetesServiceSource.js';
import { type Logger, redact, registerSecret, silentLogger } from '../logger.js';
import { proxyForUrl } from '../panorama/proxyAgent.js';
import type { ArmClients } from './ArmClients.js';
import { type KubeconfigEndpoint, parseKubeconfigEndpoint } from './parseKubeconfigEndpoint.js';
import { ArmActions, toAzureError } from './toAzureError.js';

/**
 * Scope of a Microsoft Entra token for the API server of any AKS-managed Entra ID cluster (the
 * "Azure Kubernetes Service AAD Server" application, the same in every tenant).
 */
export const AKS_AAD_SERVER_SCOPE = '6dae42f8-4368-4678-94ff-3960e28e3630/.default';

/** Options of {@link KubeCredentialProvider}. */
export interface KubeCredentialProviderOptions {
  /** The Azure identity (created lazily: token-only setups never build one). */
  credential: () => TokenCredential;
  /** ARM clients, for `listClusterUserCredentials`; required for `azureAd` clusters without `server`. */
  arm?: ArmClients;
  /** Refresh a token this long before it expires (default 5 minutes). */
  refreshMarginMs?: number;
  /** Re-read server and CA from ARM after this long (default 1 hour). */
  endpointTtlMs?: number;
  now?: () => number;
  logger?: Logger;
}

interface CachedAccess {
  access: KubeAccess;
  /** When to get a new token (azureAd) — never for static tokens. */
  refreshAt: number;
}

interface CachedEndpoint {
  endpoint: KubeconfigEndpoint;
  fetchedAt: number;
}

function cacheKey(cluster: ClusterConfig): string {
  return (cluster.resourceId ?? `${cluster.name}|${cluster.server ?? ''}`).toLowerCase();
}

/**
 * Refuses an API server URL that ARM named unless it is `https://` without credentials: the
 * Entra token sent there is valid for every cluster the identity can read, so no plain-HTTP
 * exception (not even loopback) applies. The URL is not echoed.
 */
function checkArmServer(cluster: ClusterConfig, server: string, scope: string): void {
  const problem = checkServiceUrl('server', server, { loopbackHttp: false, echoValue: false });
  if (!problem) return;
  throw new AzureError(
    `Cluster "${cluster.name}": refusing the API server URL of the kubeconfig from listClusterUserCredential (${problem}); the Microsoft Entra token is only sent over https://`,
    { kind: FailureKind.permanent, details: { scope } },
  );
}

/** `proxyUrl` for the API server from `HTTPS_PROXY`/`NO_PROXY` (`shared/panorama/proxyAgent.ts`). */
function proxyUrlOf(server: string): { proxyUrl?: string } {
  const proxy = proxyForUrl(server);
  return proxy ? { proxyUrl: proxy } : {};
}

function buildKubeConfig(cluster: ClusterConfig, endpoint: KubeconfigEndpoint, token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: cluster.name,
        server: endpoint.server,
        ...(endpoint.caData ? { caData: endpoint.caData } : {}),
        ...(endpoint.tlsServerName ? { tlsServerName: endpoint.tlsServerName } : {}),
        // client-node only speaks plain HTTP with skipTLSVerify; only config may name http:// (loopback).
        skipTLSVerify: endpoint.server.startsWith('http:'),
        // client-node 1.4 ignores HTTPS_PROXY/NO_PROXY and only honours a kubeconfig proxy-url.
        ...proxyUrlOf(endpoint.server),
      },
    ],
    users: [{ name: 'aks-panorama-sync', token }],
    contexts: [{ name: cluster.name, cluster: cluster.name, user: 'aks-panorama-sync' }],
    currentContext: cluster.name,
  });
  return kc;
}

/**
 * Builds the `KubeConfig` for each cluster, preferring short-lived credentials:
 *
 * - `azureAd`: a Microsoft Entra token for {@link AKS_AAD_SERVER_SCOPE} from the service's
 *   identity; server URL and CA from the cluster entry, or else from ARM
 *   `listClusterUserCredentials` (only the cluster section of that kubeconfig is read; its user is
 *   discarded). The KubeConfig is rebuilt before the token expires.
 * - `token`: the service-account bearer token with the entry's `server` and `caData`.
 *
 * Tokens are registered for log redaction and never appear in messages; kubeconfigs are never logged.
 */
export class KubeCredentialProvider implements KubeAccessProvider {
  private readonly accessCache = new Map<string, CachedAccess>();
  private readonly endpointCache = new Map<string, CachedEndpoint>();
  private readonly now: () => number;
  private readonly logger: Logger;

  constructor(private readonly options: KubeCredentialProviderOptions) {
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? silentLogger;
  }

  /** The current access to `cluster`'s API server (cached until its token needs refreshing). */
  async access(cluster: ClusterConfig): Promise<KubeAccess> {
    const key = cacheKey(cluster);
    const cached = this.accessCache.get(key);
    if (cached && this.now() < cached.refreshAt) return cached.access;
    const fresh =
      cluster.auth.type === 'token' ? this.tokenAccess(cluster) : await this.azureAdAccess(cluster);
    this.accessCache.set(key, fresh);
    return fresh.access;
  }

  /** Drops the cached token and ARM endpoint of `cluster` (after a 401 or a TLS failure). */
  invalidate(cluster: ClusterConfig): void {
    const key = cacheKey(cluster);
    this.accessCache.delete(key);
    this.endpointCache.delete(key);
  }

  private tokenAccess(cluster: ClusterConfig): CachedAccess {
    const token = cluster.auth.type === 'token' ? cluster.auth.token : '';
    if (!cluster.server || !token) {
      throw new AzureError(`Cluster "${cluster.name}": auth type "token" needs "server" and a token`, {
        kind: FailureKind.permanent,
      });
    }
    registerSecret(token);
    const endpoint: KubeconfigEndpoint = {
      server: cluster.server,
      ...(cluster.caData ? { caData: cluster.caData } : {}),
    };
    return {
      access: {
        kubeConfig: buildKubeConfig(cluster, endpoint, token),
        server: endpoint.server,
        authType: 'token',
        endpointFromArm: false,
      },
      refreshAt: Number.POSITIVE_INFINITY,
    };
  }

  private async azureAdAccess(cluster: ClusterConfig): Promise<CachedAccess> {
    const [endpoint, fromArm] = await this.endpoint(cluster);
    let accessToken: Awaited<ReturnType<TokenCredential['getToken']>>;
    try {
      accessToken = await this.options.credential().getToken(AKS_AAD_SERVER_SCOPE);
    } catch (err) {
      throw new AzureError(
        `Cluster "${cluster.name}": cannot get a Microsoft Entra token for the AKS API (scope ${AKS_AAD_SERVER_SCOPE}): ${redact((err as Error)?.message ?? String(err)).split('\n')[0]}; give the Function a managed identity (AZURE_CLIENT_ID for a user-assigned one)`,
        { kind: FailureKind.authentication },
      );
    }
    if (!accessToken?.token) {
      throw new AzureError(
        `Cluster "${cluster.name}": the Azure credential returned no token for the AKS API`,
        {
          kind: FailureKind.authentication,
        },
      );
    }
    registerSecret(accessToken.token);
    const margin = this.options.refreshMarginMs ?? 5 * 60_000;
    const expiresAt = accessToken.expiresOnTimestamp;
    const refreshAt = Math.min(accessToken.refreshAfterTimestamp ?? expiresAt, expiresAt - margin);
    this.logger.debug('built Kubernetes credentials from a Microsoft Entra token', {
      cluster: cluster.name,
      server: endpoint.server,
      expiresAt: new Date(expiresAt).toISOString(),
    });
    return {
      access: {
        kubeConfig: buildKubeConfig(cluster, endpoint, accessToken.token),
        server: endpoint.server,
        authType: 'azureAd',
        endpointFromArm: fromArm,
      },
      refreshAt: Math.max(refreshAt, this.now() + 1_000),
    };
  }

  private async endpoint(cluster: ClusterConfig): Promise<[KubeconfigEndpoint, boolean]> {
    if (cluster.server) {
      return [{ server: cluster.server, ...(cluster.caData ? { caData: cluster.caData } : {}) }, false];
    }
    const key = cacheKey(cluster);
    const cached = this.endpointCache.get(key);
    const ttl = this.options.endpointTtlMs ?? 60 * 60_000;
    if (cached && this.now() - cached.fetchedAt < ttl) return [cached.endpoint, true];
    const { subscriptionId, resourceGroup } = cluster;
    if (!subscriptionId || !resourceGroup || !this.options.arm) {
      throw new AzureError(
        `Cluster "${cluster.name}": auth type "azureAd" needs "server" or "subscriptionId" and "resourceGroup" (and ARM access)`,
        { kind: FailureKind.permanent },
      );
    }
    const scope = cluster.resourceId ?? `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`;
    let kubeconfigs: { name?: string; value?: Uint8Array }[] | undefined;
    try {
      const result = await this.options.arm
        .forSubscription(subscriptionId)
        .managedClusters.listClusterUserCredentials(resourceGroup, cluster.name, {
          abortSignal: this.options.arm.operationSignal(),
        });
      kubeconfigs = result.kubeconfigs;
    } catch (err) {
      throw toAzureError(err, {
        operation: 'list the cluster user credentials',
        scope,
        ...ArmActions.listUserCredential,
      });
    }
    const value = kubeconfigs?.find((k) => k.value && k.value.length > 0)?.value;
    if (!value) {
      throw new AzureError(`Cluster "${cluster.name}": listClusterUserCredential returned no kubeconfig`, {
        kind: FailureKind.permanent,
        details: { scope },
      });
    }
    let endpoint: KubeconfigEndpoint;
    try {
      endpoint = parseKubeconfigEndpoint(value);
    } catch (err) {
      throw new AzureError(
        `Cluster "${cluster.name}": the kubeconfig from listClusterUserCredential is unusable (${(err as Error).message})`,
        { kind: FailureKind.permanent, details: { scope } },
      );
    }
    checkArmServer(cluster, endpoint.server, scope);
    this.endpointCache.set(key, { endpoint, fetchedAt: this.now() });
    return [endpoint, true];
  }
}
