import {
  ContainerServiceClient,
  type ContainerServiceClientOptionalParams,
} from '@azure/arm-containerservice';
import type { TokenCredential } from '@azure/identity';

/** How to reach Azure Resource Manager. */
export interface ArmConnection {
  /** ARM endpoint (`AppConfig.armEndpoint`, default `https://management.azure.com`). */
  endpoint: string;
  /**
   * Extra CA (PEM) to trust for the ARM endpoint: only for a simulator with a private CA.
   * Replaces the default trust store for ARM calls, so leave it unset against Azure.
   */
  tlsCa?: string;
  /** The SDK pipeline's retry settings (429/5xx/network); tests shorten the delays. */
  retryOptions?: ContainerServiceClientOptionalParams['retryOptions'];
  /** Bound of one ARM operation, paging and SDK retries included (default 60 s). */
  timeoutMs?: number;
}

/**
 * `ContainerServiceClient`s per subscription, sharing one credential and connection.
 *
 * Pointing the SDK at a simulator: the client takes `endpoint` and `tlsOptions.ca`, so the simulator
 * serves HTTPS with a test CA and the SDK pipeline runs unchanged, including the bearer-token
 * policy (which refuses plain-HTTP URLs). No policy is removed and no HTTP
 * client is faked. The token scope follows the endpoint (`<endpoint>/.default`), which is right for
 * sovereign clouds and ignored by simulators.
 */
export class ArmClients {
  private readonly clients = new Map<string, ContainerServiceClient>();

  constructor(
    private readonly connection: ArmConnection,
    private readonly credential: () => TokenCredential,
  ) {}

  /** An abort signal bounding one ARM operation (pass as `abortSignal`). */
  operationSignal(): AbortSignal {
    return AbortSignal.timeout(this.connection.timeoutMs ?? 60_000);
  }

  /** The client of `subscriptionId` (created on first use). */
  forSubscription(subscriptionId: string): ContainerServiceClient {
    const key = subscriptionId.toLowerCase();
    let client = this.clients.get(key);
    if (!client) {
      const endpoint = this.connection.endpoint.replace(/\/+$/, '');
      const options: ContainerServiceClientOptionalParams = {
        endpoint,
        credentials: { scopes: [`${endpoint}/.default`] },
        ...(this.connection.tlsCa ? { tlsOptions: { ca: this.connection.tlsCa } } : {}),
        ...(this.connection.retryOptions ? { retryOptions: this.connection.retryOptions } : {}),
      };
      client = new ContainerServiceClient(this.credential(), key, options);
      this.clients.set(key, client);
    }
    return client;
  }
}
