import type { KubeConfig } from '@kubernetes/client-node';
import { backoffDelay, parseRetryAfter, sleep } from '../backoff.js';
import type { ClusterConfig } from '../config/loadConfig.js';
import { FailureKind, KubernetesError } from '../errors.js';
import { type Logger, silentLogger, withFields } from '../logger.js';
import { getKubeJson } from './getKubeJson.js';
import { createKubeConnection, type KubeConnection, type KubeRequestAuth } from './KubeConnection.js';
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

/** `limit` of each list call, chosen by measurement (docs/benchmarks.md, "Harvest page size"). */
export const DEFAULT_PAGE_SIZE = 1000;

/** Options of {@link KubernetesServiceSource}. */
export interface KubernetesServiceSourceOptions {
  access: KubeAccessProvider;
  /** `limit` of each list call (default {@link DEFAULT_PAGE_SIZE}). */
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

/** One list of Services: every item of every page, and how many pages it took. */
interface ListedPages {
  items: KubeService[];
  pages: number;
}

const asPage = (raw: unknown): { items?: unknown; metadata?: { continue?: unknown } } =>
  typeof raw === 'object' && raw !== null
    ? (raw as { items?: unknown; metadata?: { continue?: unknown } })
    : {};

/**
 * Lists Services in all namespaces over one keep-alive connection per cluster
 * (`shared/kubernetes/KubeConnection.ts`: authentication and TLS from client-node's `KubeConfig`,
 * the agent ours), each page a bare `GET /api/v1/services?limit=…&continue=…` decoded by
 * `JSON.parse` and mapped by {@link toKubeService} (client-node's `ObjectSerializer` is not used):
 *
 * - pages of `limit` (default {@link DEFAULT_PAGE_SIZE}) followed by `continue` to the end, over the server's consistent
 *   snapshot;
 * - 410 Gone (continue token expired) → the whole list restarts from the first page (bounded by
 *   `maxRelists`), so each Service appears exactly once;
 * - 429 (honouring `Retry-After`), 408, 5xx, timeouts and connection resets → retried with
 *   exponential backoff through the injected `delay` (bounded by `maxAttempts`);
 * - 401 for Entra ID credentials, or a TLS failure with an ARM-provided CA → credentials refreshed
 *   once (a new connection), then a {@link KubernetesError} that names the missing permission or CA.
 *
 * Returns plain {@link KubeService} objects.
 */
export class KubernetesServiceSource implements ServiceSource {
  private readonly pageSize: number;
  private readonly maxAttempts: number;
  private readonly maxRelists: number;
  private readonly timeoutMs: number;
  private readonly delay: (ms: number) => Promise<void>;
  private readonly logger: Logger;
  private readonly connections = new Map<string, { kubeConfig: KubeConfig; connection: KubeConnection }>();

  constructor(private readonly options: KubernetesServiceSourceOptions) {
    this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.maxRelists = Math.max(0, options.maxRelists ?? 3);
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.delay = options.delay ?? sleep;
    this.logger = options.logger ?? silentLogger;
  }

  /** Every Service of `cluster`, all namespaces, each exactly once. */
  async listServices(cluster: ClusterConfig): Promise<KubeService[]> {
    const log = withFields(this.logger, { cluster: cluster.name });
    let access = await this.options.access.access(cluster);
    let refreshed = false;
    let relists = 0;
    for (;;) {
      const ctx: KubeCallContext = {
        cluster: cluster.name,
        server: access.server,
        authType: access.authType,
        endpointFromArm: access.endpointFromArm,
      };
      try {
        const { items, pages } = await this.listPages(await this.connection(cluster, access), ctx, log);
        log.debug('listed Services', { services: items.length, pages, relists });
        return items;
      } catch (err) {
        if (err instanceof KubernetesError) throw err;
        const status = kubeStatusOf(err);
        if (status === 410) {
          relists = this.relisted(relists, cluster, access.server, log);
          continue;
        }
        const canRefresh =
          (status === 401 && access.authType === 'azureAd') || (isTlsFailure(err) && access.endpointFromArm);
        if (!canRefresh || refreshed) throw toKubernetesError(err, ctx);
        refreshed = true;
        log.warn('refreshing cluster credentials after a rejected request', {
          status,
          server: access.server,
        });
        this.options.access.invalidate(cluster);
        access = await this.options.access.access(cluster);
      }
    }
  }

  /** Closes every kept-alive connection (a later list opens a new one). */
  close(): void {
    for (const { connection } of this.connections.values()) connection.close();
    this.connections.clear();
  }

  /** The connection of `cluster` for this access; a new one (the old closed) when the access changed. */
  private async connection(cluster: ClusterConfig, access: KubeAccess): Promise<KubeConnection> {
    const cached = this.connections.get(cluster.name);
    if (cached?.kubeConfig === access.kubeConfig) return cached.connection;
    cached?.connection.close();
    this.connections.delete(cluster.name);
    const connection = await createKubeConnection(access.kubeConfig);
    this.connections.set(cluster.name, { kubeConfig: access.kubeConfig, connection });
    return connection;
  }

  private relisted(relists: number, cluster: ClusterConfig, server: string, log: Logger): number {
    const next = relists + 1;
    if (next > this.maxRelists) {
      throw new KubernetesError(
        `Kubernetes API of cluster "${cluster.name}" (${server}): the list continue token expired ${next} times in a row; the cluster changes faster than ${this.pageSize}-item pages can be read`,
        { kind: FailureKind.retryable, details: { cluster: cluster.name, relists: next } },
      );
    }
    log.info('continue token expired (410 Gone); restarting the list', { relists: next });
    return next;
  }

  private async listPages(
    connection: KubeConnection,
    ctx: KubeCallContext,
    log: Logger,
  ): Promise<ListedPages> {
    const auth = await connection.auth();
    const items: KubeService[] = [];
    let pages = 0;
    let cont: string | undefined;
    do {
      const query = `limit=${this.pageSize}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`;
      const page = asPage(await this.fetchPage(connection, auth, `/api/v1/services?${query}`, ctx, log));
      if (!Array.isArray(page.items)) {
        throw new KubernetesError(
          `Kubernetes API of cluster "${ctx.cluster}" (${ctx.server}): the answer to a list of Services has no "items" array`,
          { kind: FailureKind.permanent, details: { cluster: ctx.cluster, server: ctx.server } },
        );
      }
      pages += 1;
      for (const s of page.items) items.push(toKubeService(s));
      const next = page.metadata?.continue;
      cont = typeof next === 'string' && next !== '' ? next : undefined;
    } while (cont);
    return { items, pages };
  }

  private async fetchPage(
    connection: KubeConnection,
    auth: KubeRequestAuth,
    path: string,
    ctx: KubeCallContext,
    log: Logger,
  ): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await getKubeJson(connection, auth, path, this.timeoutMs);
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
