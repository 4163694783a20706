import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { KubeService } from '../../shared/kubernetes/KubeService.js';
import { loadTestTls, type SimulatorTls } from './loadTestTls.js';

/** A fault the simulator injects into the next matching request(s). */
export type KubernetesFault =
  /** An error `Status` with this code (429 adds `Retry-After`). */
  | { type: 'status'; code: 429 | 500 | 502 | 503 | 504; retryAfterSeconds?: number }
  /** Delays the response (then serves it normally). */
  | { type: 'latency'; ms: number }
  /** Destroys the connection without a response (the client sees ECONNRESET / socket hang up). */
  | { type: 'reset' }
  /** Answers a request carrying `continue` with 410 Gone (`reason: Expired`), as after etcd compaction. */
  | { type: 'expireContinue' };

/** How often and on which requests a fault fires. */
export interface KubernetesFaultOptions {
  /** Number of requests the fault applies to (default 1). */
  times?: number;
  /** Only requests carrying a `continue` parameter (implied for `expireContinue`). */
  onlyWithContinue?: boolean;
}

/** Options of {@link startKubernetesSimulator}. */
export interface KubernetesSimulatorOptions {
  /** The accepted bearer token (default: random). */
  token?: string;
  /** TLS material (default: the test certificate of `test/fixtures/tls`); `false` serves plain HTTP. */
  tls?: SimulatorTls | false;
  /** Services present at start. */
  services?: KubeService[];
  /** Lifetime of continue tokens (default 5 minutes, as the API server's etcd compaction). */
  continueTtlMs?: number;
  /** Clock used for continue-token expiry (default `Date.now`). */
  now?: () => number;
  /** First resourceVersion (default 1000). */
  initialResourceVersion?: number;
}

/** Who is denied in forbidden mode, and how the denial is worded. */
export interface ForbiddenMode {
  /** The user named in the message (default `system:serviceaccount:default:default`). */
  user?: string;
  /** Adds the suffix AKS's Azure RBAC webhook appends ("User does not have access to the resource in Azure…"). */
  azureRbac?: boolean;
}

/** One request as the simulator saw it (never the Authorization header). */
export interface RecordedKubeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** HTTP status sent; 0 when the connection was reset. */
  status: number;
}

/** A running Kubernetes API simulator. */
export interface KubernetesSimulator {
  /** Base URL, e.g. `https://127.0.0.1:41234`. */
  readonly url: string;
  /** Base64 of the PEM CA to trust (kubeconfig `certificate-authority-data`); undefined over HTTP. */
  readonly caData: string | undefined;
  /** The currently accepted bearer token. */
  readonly token: string;
  /** Current resourceVersion of the store. */
  readonly resourceVersion: string;
  /** Every request served so far, oldest first. */
  readonly requests: RecordedKubeRequest[];
  /** Replaces the accepted bearer token (token rotation / revocation). */
  setToken(token: string): void;
  /** Snapshot of the stored Services, in API order (namespace, then name). */
  services(): KubeService[];
  getService(namespace: string, name: string): KubeService | undefined;
  /** Adds (or replaces) a Service; bumps the resourceVersion. Returns the stored object. */
  addService(service: KubeService): KubeService;
  /** Adds many Services, one resourceVersion bump each. */
  addServices(services: readonly KubeService[]): void;
  /** Replaces a Service with `update(copy)`; bumps the resourceVersion. Throws when absent. */
  updateService(
    namespace: string,
    name: string,
    update: (service: KubeService) => KubeService | undefined,
  ): KubeService;
  /** Deletes a Service; returns whether it existed. */
  deleteService(namespace: string, name: string): boolean;
  /** Sets `status.loadBalancer.ingress[].ip` (empty = pending). */
  setIngressIps(namespace: string, name: string, ips: readonly string[]): KubeService;
  /** Replaces `metadata.labels`. */
  setLabels(namespace: string, name: string, labels: Record<string, string>): KubeService;
  /** Queues a fault for the next matching request(s). */
  injectFault(fault: KubernetesFault, options?: KubernetesFaultOptions): void;
  clearFaults(): void;
  /** Makes every continue token issued so far answer 410 Gone. */
  expireContinueTokens(): void;
  /** Forbidden mode: list/get answer 403 (authenticated but not authorized). `false` turns it off. */
  setForbidden(mode: boolean | ForbiddenMode): void;
  /** Closes the server and every open connection. */
  stop(): Promise<void>;
}

interface Snapshot {
  rv: number;
  createdAt: number;
  items: KubeService[];
}

interface QueuedFault {
  fault: KubernetesFault;
  remaining: number;
  onlyWithContinue: boolean;
}

class KubeHttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly metadata: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;
const serviceKey = (s: KubeService) => keyOf(s.metadata?.namespace ?? 'default', s.metadata?.name ?? '');

function statusBody(err: KubeHttpError): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: err.metadata,
    status: 'Failure',
    message: err.message,
    reason: err.reason,
    ...(err.details ? { details: err.details } : {}),
    code: err.code,
  };
}

function encodeContinue(rv: number, startKey: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: `${startKey}\u0000` })).toString(
    'base64url',
  );
}

function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      v?: unknown;
      rv?: unknown;
      start?: unknown;
    };
    if (parsed.v !== 'meta.k8s.io/v1' || typeof parsed.rv !== 'number' || typeof parsed.start !== 'string') {
      throw new Error('bad');
    }
    return { rv: parsed.rv, start: parsed.start };
  } catch {
    throw new KubeHttpError(
      400,
      'BadRequest',
      'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
    );
  }
}

function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Starts a Kubernetes API server simulator on `127.0.0.1` (ephemeral port; HTTPS with the test
 * certificate unless `tls: false`). It serves what the harvester reads, with the real wire shapes:
 *
 * - `GET /api/v1/services` and `GET /api/v1/namespaces/{ns}/services`: a `ServiceList` in etcd key
 *   order, paged by `limit` and `continue` over a consistent snapshot (`metadata.resourceVersion`
 *   constant across pages, `remainingItemCount`); an expired continue token answers
 *   `410 Gone` with a `Status` of `reason: Expired` and the API server's message.
 * - `GET /api/v1/namespaces/{ns}/services/{name}` and `GET /version`.
 * - Bearer-token check (`401` `Status` `Unauthorized`), forbidden mode (`403` worded as the RBAC
 *   authorizer does), injectable faults (429/5xx `Status`, latency, connection reset, continue expiry).
 *
 * Mutation helpers bump `resourceVersion` like the API server, so tests and the demo can change the
 * cluster. One simulator is one cluster; start several for several clusters.
 */
export async function startKubernetesSimulator(
  options: KubernetesSimulatorOptions = {},
): Promise<KubernetesSimulator> {
  const tls = options.tls === false ? undefined : (options.tls ?? loadTestTls());
  const now = options.now ?? Date.now;
  const continueTtlMs = options.continueTtlMs ?? 5 * 60_000;
  let token = options.token ?? `sim-${randomBytes(24).toString('hex')}`;
  let rv = options.initialResourceVersion ?? 1000;
  const store = new Map<string, KubeService>();
  const snapshots = new Map<number, Snapshot>();
  let faults: QueuedFault[] = [];
  let forbidden: ForbiddenMode | undefined;
  const requests: RecordedKubeRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const put = (service: KubeService): KubeService => {
    rv += 1;
    const copy = structuredClone(service);
    copy.metadata = {
      ...copy.metadata,
      namespace: copy.metadata?.namespace ?? 'default',
      resourceVersion: String(rv),
    };
    delete copy.kind;
    delete copy.apiVersion;
    store.set(serviceKey(copy), copy);
    return structuredClone(copy);
  };
  for (const s of options.services ?? []) put(s);

  const sortedItems = () =>
    [...store.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);

  const pruneSnapshots = () => {
    for (const [key, snap] of snapshots) if (now() - snap.createdAt >= continueTtlMs) snapshots.delete(key);
  };

  const takeSnapshot = (): Snapshot => {
    pruneSnapshots();
    const snap = { rv, createdAt: now(), items: sortedItems() };
    snapshots.set(rv, snap);
    return snap;
  };

  const takeFault = (hasContinue: boolean): KubernetesFault | undefined => {
    const index = faults.findIndex((f) => !f.onlyWithContinue || hasContinue);
    const queued = faults[index];
    if (!queued) return undefined;
    queued.remaining -= 1;
    if (queued.remaining <= 0) faults.splice(index, 1);
    return queued.fault;
  };

  const forbiddenError = (verb: string, namespace?: string, name?: string): KubeHttpError => {
    const user = forbidden?.user ?? 'system:serviceaccount:default:default';
    const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
    const subject = name ? `services "${name}"` : 'services';
    const suffix = forbidden?.azureRbac
      ? ': User does not have access to the resource in Azure. Update role assignment to allow access.'
      : '';
    return new KubeHttpError(
      403,
      'Forbidden',
      `${subject} is forbidden: User "${user}" cannot ${verb} resource "services" in API group "" ${scope}${suffix}`,
      { ...(name ? { name } : {}), kind: 'services' },
    );
  };

  const list = (query: URLSearchParams, namespace: string | undefined): Record<string, unknown> => {
    for (const unsupported of ['watch', 'labelSelector', 'fieldSelector']) {
      const v = query.get(unsupported);
      if (v && v !== 'false') {
        throw new KubeHttpError(400, 'BadRequest', `${unsupported} is not supported by the simulator`);
      }
    }
    const rawLimit = query.get('limit');
    const limit = rawLimit === null || rawLimit === '' ? 0 : Number(rawLimit);
    if (!Number.isInteger(limit) || limit < 0) {
      throw new KubeHttpError(400, 'BadRequest', `invalid limit: "${rawLimit}"`);
    }
    const cont = query.get('continue');
    let snap: Snapshot;
    let start = '';
    if (cont) {
      const decoded = decodeContinue(cont);
      pruneSnapshots();
      const found = snapshots.get(decoded.rv);
      if (!found) {
        const fresh = takeSnapshot();
        const remaining = fresh.items.some((s) => serviceKey(s) >= decoded.start);
        throw new KubeHttpError(
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
          undefined,
          remaining
            ? {
                continue: encodeContinue(
                  fresh.rv,
                  decoded.start.endsWith('\u0000') ? decoded.start.slice(0, -1) : decoded.start,
                ),
              }
            : {},
        );
      }
      snap = found;
      start = decoded.start;
    } else {
      snap = takeSnapshot();
    }
    const inScope = namespace ? snap.items.filter((s) => s.metadata?.namespace === namespace) : snap.items;
    const from = start ? inScope.findIndex((s) => serviceKey(s) >= start) : 0;
    const rest = from < 0 ? [] : inScope.slice(from);
    const page = limit > 0 ? rest.slice(0, limit) : rest;
    const more = rest.length > page.length;
    const last = page[page.length - 1];
    const metadata: Record<string, unknown> = { resourceVersion: String(snap.rv) };
    if (more && last) {
      metadata.continue = encodeContinue(snap.rv, serviceKey(last));
      metadata.remainingItemCount = rest.length - page.length;
    } else {
      snapshots.delete(snap.rv);
    }
    return { kind: 'ServiceList', apiVersion: 'v1', metadata, items: page };
  };

  const route = (method: string, path: string, query: URLSearchParams): Record<string, unknown> => {
    if (method !== 'GET') {
      throw new KubeHttpError(
        405,
        'MethodNotAllowed',
        `the server does not allow this method on the requested resource`,
      );
    }
    if (path === '/api/v1/services') {
      if (forbidden) throw forbiddenError('list');
      return list(query, undefined);
    }
    const namespaced = /^\/api\/v1\/namespaces\/([^/]+)\/services(?:\/([^/]+))?$/.exec(path);
    if (namespaced) {
      const namespace = decodeURIComponent(namespaced[1] ?? '');
      const name = namespaced[2] === undefined ? undefined : decodeURIComponent(namespaced[2]);
      if (forbidden) throw forbiddenError(name ? 'get' : 'list', namespace, name);
      if (name === undefined) return list(query, namespace);
      const found = store.get(keyOf(namespace, name));
      if (!found) {
        throw new KubeHttpError(404, 'NotFound', `services "${name}" not found`, { name, kind: 'services' });
      }
      return { kind: 'Service', apiVersion: 'v1', ...found };
    }
    throw new KubeHttpError(404, 'NotFound', 'the server could not find the requested resource', {});
  };

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const record: RecordedKubeRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
    };
    requests.push(record);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'Content-Type': 'application/json',
        'Cache-Control': 'no-cache, private',
        ...headers,
      });
      res.end(text);
    };
    const serve = () => {
      try {
        send(200, route(record.method, url.pathname, url.searchParams));
      } catch (err) {
        if (err instanceof KubeHttpError) send(err.code, statusBody(err));
        else
          send(
            500,
            statusBody(new KubeHttpError(500, 'InternalError', `Internal error occurred: ${String(err)}`)),
          );
      }
    };

    if (url.pathname === '/version') {
      send(200, { major: '1', minor: '33', gitVersion: 'v1.33.2', platform: 'linux/amd64' });
      return;
    }
    const auth = req.headers.authorization ?? '';
    const presented = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length).trim() : '';
    if (!presented || !tokensEqual(presented, token)) {
      send(401, statusBody(new KubeHttpError(401, 'Unauthorized', 'Unauthorized')));
      return;
    }
    const fault = takeFault(url.searchParams.has('continue'));
    if (!fault) return serve();
    switch (fault.type) {
      case 'reset':
        req.socket.destroy();
        return;
      case 'latency': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.destroyed) serve();
        }, fault.ms);
        timers.add(timer);
        return;
      }
      case 'expireContinue': {
        snapshots.clear();
        return serve();
      }
      case 'status': {
        const reasons: Record<number, [string, string]> = {
          429: ['TooManyRequests', 'Too many requests, please try again later.'],
          500: ['InternalError', 'Internal error occurred: injected by the simulator'],
          502: ['InternalError', 'Internal error occurred: bad gateway'],
          503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
          504: ['Timeout', 'Timeout: request did not complete within the allowed duration'],
        };
        const [reason, message] = reasons[fault.code] ?? ['InternalError', 'Internal error occurred'];
        const retryAfter = fault.retryAfterSeconds ?? (fault.code === 429 ? 1 : undefined);
        send(
          fault.code,
          statusBody(
            new KubeHttpError(
              fault.code,
              reason,
              message,
              retryAfter === undefined ? undefined : { retryAfterSeconds: retryAfter },
            ),
          ),
          retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) },
        );
        return;
      }
    }
  };

  const server = tls
    ? https.createServer({ cert: tls.cert, key: tls.key }, handler)
    : http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;

  const mustGet = (namespace: string, name: string): KubeService => {
    const found = store.get(keyOf(namespace, name));
    if (!found) throw new Error(`simulator: service ${namespace}/${name} does not exist`);
    return structuredClone(found);
  };

  const updateService = (
    namespace: string,
    name: string,
    update: (service: KubeService) => KubeService | undefined,
  ): KubeService => {
    const current = mustGet(namespace, name);
    const next = update(current) ?? current;
    return put({ ...next, metadata: { ...next.metadata, namespace, name } });
  };

  return {
    url,
    caData: tls ? Buffer.from(tls.ca).toString('base64') : undefined,
    get token() {
      return token;
    },
    get resourceVersion() {
      return String(rv);
    },
    requests,
    setToken(next) {
      token = next;
    },
    services: () => sortedItems().map((s) => structuredClone(s)),
    getService: (namespace, name) => {
      const found = store.get(keyOf(namespace, name));
      return found ? structuredClone(found) : undefined;
    },
    addService: put,
    addServices(services) {
      for (const s of services) put(s);
    },
    updateService,
    deleteService(namespace, name) {
      const existed = store.delete(keyOf(namespace, name));
      if (existed) rv += 1;
      return existed;
    },
    setIngressIps(namespace, name, ips) {
      return updateService(namespace, name, (s) => ({
        ...s,
        status: { loadBalancer: ips.length > 0 ? { ingress: ips.map((ip) => ({ ip })) } : {} },
      }));
    },
    setLabels(namespace, name, labels) {
      return updateService(namespace, name, (s) => ({
        ...s,
        metadata: { ...s.metadata, labels: { ...labels } },
      }));
    },
    injectFault(fault, faultOptions = {}) {
      faults.push({
        fault,
        remaining: faultOptions.times ?? 1,
        onlyWithContinue: fault.type === 'expireContinue' || (faultOptions.onlyWithContinue ?? false),
      });
    },
    clearFaults() {
      faults = [];
    },
    expireContinueTokens() {
      snapshots.clear();
    },
    setForbidden(mode) {
      forbidden = mode === false ? undefined : mode === true ? {} : mode;
    },
    async stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
