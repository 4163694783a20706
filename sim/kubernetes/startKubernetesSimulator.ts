import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { KubeService } from '../../shared/kubernetes/KubeService.js';
import { closeServer } from '../closeServer.js';
import { FaultQueue } from '../FaultQueue.js';
import { listenOnLoopback } from '../listenOnLoopback.js';
import { createKubeRequestHandler } from './createKubeRequestHandler.js';
import type { KubernetesSimulatorState } from './KubernetesSimulatorState.js';
import { KubeServiceStore } from './KubeServiceStore.js';
import { ListSnapshots } from './ListSnapshots.js';
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
  const state: KubernetesSimulatorState = {
    token: options.token ?? `sim-${randomBytes(24).toString('hex')}`,
    forbidden: undefined,
    services: new KubeServiceStore(options.initialResourceVersion ?? 1000),
    snapshots: new ListSnapshots(options.now ?? Date.now, options.continueTtlMs ?? 5 * 60_000),
    faults: new FaultQueue(),
    requests: [],
    timers: new Set(),
  };
  for (const s of options.services ?? []) state.services.put(s);
  const handler = createKubeRequestHandler(state);
  const server = tls
    ? https.createServer({ cert: tls.cert, key: tls.key }, handler)
    : http.createServer(handler);
  const port = await listenOnLoopback(server);
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const caData = tls ? Buffer.from(tls.ca).toString('base64') : undefined;
  return kubernetesSimulatorHandle(state, server, { url, caData });
}

function kubernetesSimulatorHandle(
  state: KubernetesSimulatorState,
  server: http.Server,
  address: Pick<KubernetesSimulator, 'url' | 'caData'>,
): KubernetesSimulator {
  return {
    url: address.url,
    caData: address.caData,
    get token() {
      return state.token;
    },
    get resourceVersion() {
      return String(state.services.resourceVersion);
    },
    requests: state.requests,
    setToken(next) {
      state.token = next;
    },
    ...serviceMethods(state.services),
    injectFault(fault, faultOptions = {}) {
      const onlyWithContinue = fault.type === 'expireContinue' || (faultOptions.onlyWithContinue ?? false);
      state.faults.add({ fault, onlyWithContinue }, faultOptions.times ?? 1);
    },
    clearFaults() {
      state.faults.clear();
    },
    expireContinueTokens() {
      state.snapshots.clear();
    },
    setForbidden(mode) {
      state.forbidden = mode === false ? undefined : mode === true ? {} : mode;
    },
    async stop() {
      for (const t of state.timers) clearTimeout(t);
      state.timers.clear();
      await closeServer(server);
    },
  };
}

type ServiceMethods = Pick<
  KubernetesSimulator,
  | 'services'
  | 'getService'
  | 'addService'
  | 'addServices'
  | 'updateService'
  | 'deleteService'
  | 'setIngressIps'
  | 'setLabels'
>;

function serviceMethods(store: KubeServiceStore): ServiceMethods {
  const copyOf = (found: KubeService | undefined) => (found ? structuredClone(found) : undefined);
  return {
    services: () => store.sorted().map((s) => structuredClone(s)),
    getService: (namespace, name) => copyOf(store.find(namespace, name)),
    addService: (service) => store.put(service),
    addServices(services) {
      for (const s of services) store.put(s);
    },
    updateService: (namespace, name, update) => store.update(namespace, name, update),
    deleteService: (namespace, name) => store.delete(namespace, name),
    setIngressIps(namespace, name, ips) {
      return store.update(namespace, name, (s) => ({
        ...s,
        status: { loadBalancer: ips.length > 0 ? { ingress: ips.map((ip) => ({ ip })) } : {} },
      }));
    },
    setLabels(namespace, name, labels) {
      return store.update(namespace, name, (s) => ({
        ...s,
        metadata: { ...s.metadata, labels: { ...labels } },
      }));
    },
  };
}
