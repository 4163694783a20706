import {
  type ConfigurationOptions,
  CoreV1Api,
  type KubeConfig,
  Observable,
  type V1ServiceList,
} from '@kubernetes/client-node';
import { backoffDelay, parseRetryAfter, sleep } from '../backoff.js';
import type { ClusterConfig } from '../config/loadConfig.js';
import { FailureKind, KubernetesError } from '../errors.js';
import { type Logger, silentLogger, withFields } from '../logger.js';
import type { KubeService, ServiceSource } from './KubeService.js';
import {
  classifyKubeFailure,
  isTlsFailure,
  type KubeCallContext,
  kubeRetryAfter,
  kubeStatusOf,
  toKubernetesError,
} from './toKubernetesError.js';
import { toKubeService } from './toKubeService.js';

/** A ready-to-use connection to one cluster's API server. */
export interface KubeAccess {
  kubeConfig: KubeConfig;
  server: string;
  authType: 'azureAd' | 'token';
  /** Server and CA came from ARM (re-read after a TLS failure). */
  endpointFromArm: boolean;
}

/** Supplies (and, after a 401 or TLS failure, refreshes) the connection to a cluster. */
export interface KubeAccessProvider {
  access(cluster: ClusterConfig): Promise<KubeAccess>;
  invalidate(cluster: ClusterConfig): void;
}

/** Options of {@link KubernetesServiceSource}. */
export interface KubernetesServiceSourceOptions {
  access: KubeAccessProvider;
  /** `limit` of each list call (default 500). */
  pageSize?: number;
  /** Attempts per page on 429/5xx/timeouts/resets (default 5). */
  maxAttempts?: number;
  /** Full restarts of the list after 410 Gone (default 3). */
  maxRelists?: number;
  /** First backoff delay (default 500 ms), doubled per retry up to `maxDelayMs` (default 15 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per-request timeout (default 30 s). */
  requestTimeoutMs?: number;
  /** Waits `ms` between retries (default `setTimeout`; tests inject a recorder). */
  delay?: (ms: number) => Promise<void>;
  logger?: Logger;
}

/**
 * Lists Services in all namespaces with `@kubernetes/client-node`:
 *
 * - pages of `limit` (default 500) followed by `continue` to the end, over the server's consistent
 *   snapshot;
 * - 410 Gone (continue token expired) → the whole list restarts from the first page (bounded by
 *   `maxRelists`), so each Service appears exactly once;
 * - 429 (honouring `Retry-After`), 408, 5xx, timeouts and connection resets → retried with
 *   exponential backoff through the injected `delay` (bounded by `maxAttempts`);
 * - 401 for Entra ID credentials, or a TLS failure with an ARM-provided CA → credentials refreshed
 *   once, then a {@link KubernetesError} that names the missing permission or CA.
 *
 * Returns plain {@link KubeService} objects.
 */
export class KubernetesServiceSource implements ServiceSource {
  private readonly pageSize: number;
  private readonly maxAttempts: number;
  private readonly maxRelists: number;
  private readonly delay: (ms: number) => Promise<void>;
  private readonly logger: Logger;
  private readonly requestOptions: ConfigurationOptions;

  constructor(private readonly options: KubernetesServiceSourceOptions) {
    this.pageSize = options.pageSize ?? 500;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.maxRelists = Math.max(0, options.maxRelists ?? 3);
    this.delay = options.delay ?? sleep;
    this.logger = options.logger ?? silentLogger;
    const timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.requestOptions = {
      middleware: [
        {
          pre: (ctx) => {
            ctx.setSignal(AbortSignal.timeout(timeoutMs));
            return new Observable(Promise.resolve(ctx));
          },
          post: (ctx) => new Observable(Promise.resolve(ctx)),
        },
      ],
      middlewareMergeStrategy: 'append',
    };
  }

  /** Every Service of `cluster`, all namespaces, each exactly once. */
  async listServices(cluster: ClusterConfig): Promise<KubeService[]> {
    const log = withFields(this.logger, { cluster: cluster.name });
    let access = await this.options.access.access(cluster);
    let refreshed = false;
    let relists = 0;
    for (;;) {
      const api = access.kubeConfig.makeApiClient(CoreV1Api);
      const ctx: KubeCallContext = {
        cluster: cluster.name,
        server: access.server,
        authType: access.authType,
        endpointFromArm: access.endpointFromArm,
      };
      const items: KubeService[] = [];
      let pages = 0;
      let cont: string | undefined;
      try {
        do {
          const page = await this.fetchPage(api, cont, ctx, log);
          pages += 1;
          for (const s of page.items ?? []) items.push(toKubeService(s));
          cont = page.metadata?._continue || undefined;
        } while (cont);
        log.debug('listed Services', { services: items.length, pages, relists });
        return items;
      } catch (err) {
        if (err instanceof KubernetesError) throw err;
        const status = kubeStatusOf(err);
        if (status === 410) {
          relists += 1;
          if (relists > this.maxRelists) {
            throw new KubernetesError(
              `Kubernetes API of cluster "${cluster.name}" (${access.server}): the list continue token expired ${relists} times in a row; the cluster changes faster than ${this.pageSize}-item pages can be read`,
              { kind: FailureKind.retryable, details: { cluster: cluster.name, relists } },
            );
          }
          log.info('continue token expired (410 Gone); restarting the list', { pagesRead: pages, relists });
          continue;
        }
        const canRefresh =
          (status === 401 && access.authType === 'azureAd') || (isTlsFailure(err) && access.endpointFromArm);
        if (canRefresh && !refreshed) {
          refreshed = true;
          log.warn('refreshing cluster credentials after a rejected request', {
            status,
            server: access.server,
          });
          this.options.access.invalidate(cluster);
          access = await this.options.access.access(cluster);
          continue;
        }
        throw toKubernetesError(err, ctx);
      }
    }
  }

  private async fetchPage(
    api: CoreV1Api,
    cont: string | undefined,
    ctx: KubeCallContext,
    log: Logger,
  ): Promise<V1ServiceList> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await api.listServiceForAllNamespaces(
          { limit: this.pageSize, ...(cont ? { _continue: cont } : {}) },
          this.requestOptions,
        );
      } catch (err) {
        const status = kubeStatusOf(err);
        if (status === 410 || classifyKubeFailure(err) !== FailureKind.retryable) throw err;
        if (attempt >= this.maxAttempts) throw toKubernetesError(err, ctx, attempt);
        const wait = backoffDelay(
          attempt,
          { baseMs: this.options.baseDelayMs ?? 500, maxMs: this.options.maxDelayMs ?? 15_000 },
          parseRetryAfter(kubeRetryAfter(err)),
        );
        log.warn('Kubernetes API call failed; retrying', {
          status,
          code: (err as { code?: unknown }).code,
          attempt,
          delayMs: wait,
        });
        await this.delay(wait);
      }
    }
  }
}
