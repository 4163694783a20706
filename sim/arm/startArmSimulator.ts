import { randomBytes } from 'node:crypto';
import https from 'node:https';
import { closeServer } from '../closeServer.js';
import { FaultQueue } from '../FaultQueue.js';
import { loadTestTls, type SimulatorTls } from '../kubernetes/loadTestTls.js';
import { listenOnLoopback } from '../listenOnLoopback.js';
import { ArmClusterStore, type StoredArmCluster } from './ArmClusterStore.js';
import { ArmDenials } from './ArmDenials.js';
import type { ArmSimulatorState } from './ArmSimulatorState.js';
import { armClusterJson } from './armClusterJson.js';
import { createArmRequestHandler } from './createArmRequestHandler.js';

/** Where `listClusterUserCredential` points a cluster's kubeconfig (e.g. a Kubernetes simulator). */
export interface ArmApiServer {
  url: string;
  /** Base64 PEM of the API server's CA (`certificate-authority-data`). */
  caData?: string;
}

/** A managed cluster to serve. */
export interface ArmClusterInput {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location?: string;
  tags?: Record<string, string>;
  /** Default `MC_<resourceGroup>_<name>_<location>`. */
  nodeResourceGroup?: string;
  /** AKS-managed Microsoft Entra ID integration (default true). */
  aad?: boolean;
  /** Azure RBAC for Kubernetes authorization (default true when `aad`). */
  azureRbac?: boolean;
  kubernetesVersion?: string;
  /** The API server the user kubeconfig names (default the cluster's unreachable public FQDN). */
  apiServer?: ArmApiServer;
}

/** A fault for the next matching ARM request(s). */
export interface ArmFault {
  /** HTTP status to answer (e.g. 429, 500, 503). */
  status: number;
  /** Number of requests it applies to (default 1). */
  times?: number;
  /** Only requests whose path contains this text (case-insensitive). */
  pathContains?: string;
  retryAfterSeconds?: number;
}

/** Options of {@link startArmSimulator}. */
export interface ArmSimulatorOptions {
  /** The accepted bearer token (default: random). */
  token?: string;
  /** TLS material (default: the test certificate of `test/fixtures/tls`). */
  tls?: SimulatorTls;
  /** Subscriptions that exist even without clusters (others answer 404 `SubscriptionNotFound`). */
  subscriptions?: string[];
  clusters?: ArmClusterInput[];
  /** Clusters per page of the list operations before a `nextLink` (default 100). */
  pageSize?: number;
  /** Accepted api-versions (default: any `YYYY-MM-DD[-preview]`). */
  apiVersions?: string[];
  /** Tenant ID in AAD profiles and kubeconfigs. */
  tenantId?: string;
}

/** One request as the simulator saw it (never the Authorization header). */
export interface RecordedArmRequest {
  method: string;
  path: string;
  apiVersion: string | undefined;
  status: number;
}

/** A running ARM (Microsoft.ContainerService) simulator. */
export interface ArmSimulator {
  /** Base URL, e.g. `https://127.0.0.1:43120` (use as the SDK client's `endpoint`). */
  readonly url: string;
  /** PEM of the CA to trust (`tlsOptions.ca` of the SDK client). */
  readonly caPem: string;
  /** The currently accepted bearer token. */
  readonly token: string;
  readonly requests: RecordedArmRequest[];
  setToken(token: string): void;
  /** Adds a cluster; returns its ARM JSON. */
  addCluster(input: ArmClusterInput): Record<string, unknown>;
  /** Removes a cluster by resource ID (case-insensitive); returns whether it existed. */
  removeCluster(resourceId: string): boolean;
  /** Replaces a cluster's tags. */
  setTags(resourceId: string, tags: Record<string, string>): void;
  /** Points a cluster's user kubeconfig at `apiServer`. */
  setApiServer(resourceId: string, apiServer: ArmApiServer): void;
  /** The ARM JSON of every cluster. */
  clusters(): Record<string, unknown>[];
  /** Denies an action (e.g. `Microsoft.ContainerService/managedClusters/read`) at and below `scope` (default everywhere): 403 `AuthorizationFailed`. */
  denyAction(action: string, scope?: string): void;
  clearDenials(): void;
  injectFault(fault: ArmFault): void;
  stop(): Promise<void>;
}

/**
 * Starts an Azure Resource Manager simulator for `Microsoft.ContainerService/managedClusters` on
 * `127.0.0.1` over HTTPS (test certificate), speaking ARM's JSON shapes:
 *
 * - `GET /subscriptions/{sub}/providers/Microsoft.ContainerService/managedClusters` and
 *   `GET /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters`:
 *   `{ value: [...], nextLink? }` paged by `$skipToken`;
 * - `GET …/managedClusters/{name}`;
 * - `POST …/managedClusters/{name}/listClusterUserCredential`: `{ kubeconfigs: [{ name: 'clusterUser',
 *   value: <base64 kubeconfig YAML> }] }`, the kubeconfig naming the cluster's `apiServer`
 *   (exec/kubelogin user for Entra ID clusters, as AKS returns);
 * - `api-version` required (400 `MissingApiVersionParameter` / `NoRegisteredProviderFound`), paths
 *   case-insensitive, resource IDs spelled `resourcegroups` as the AKS resource provider does;
 * - bearer check (401 `InvalidAuthenticationToken` with `WWW-Authenticate`), denied actions
 *   (403 `AuthorizationFailed` naming the action and scope), injected faults.
 *
 * HTTPS rather than HTTP keeps the SDK's bearer-token policy (which refuses non-TLS URLs) in place:
 * point `ContainerServiceClient` at it with `{ endpoint: sim.url, tlsOptions: { ca: sim.caPem } }`.
 */
export async function startArmSimulator(options: ArmSimulatorOptions = {}): Promise<ArmSimulator> {
  const tls = options.tls ?? loadTestTls();
  const state: ArmSimulatorState = {
    token: options.token ?? `arm-${randomBytes(24).toString('hex')}`,
    url: '',
    tenantId: options.tenantId ?? '72f988bf-86f1-41af-91ab-2d7cd011db47',
    caPem: tls.ca,
    pageSize: options.pageSize ?? 100,
    apiVersions: options.apiVersions,
    clusters: new ArmClusterStore(options.subscriptions ?? []),
    denials: new ArmDenials(),
    faults: new FaultQueue<ArmFault>(),
    requests: [],
  };
  const server = https.createServer({ cert: tls.cert, key: tls.key }, createArmRequestHandler(state));
  state.url = `https://127.0.0.1:${await listenOnLoopback(server)}`;
  for (const c of options.clusters ?? []) state.clusters.add(c);
  return armSimulatorHandle(state, server);
}

function armSimulatorHandle(state: ArmSimulatorState, server: https.Server): ArmSimulator {
  const toJson = (c: StoredArmCluster) => armClusterJson(c, state.tenantId);
  return {
    url: state.url,
    caPem: state.caPem,
    get token() {
      return state.token;
    },
    requests: state.requests,
    setToken(next) {
      state.token = next;
    },
    addCluster: (input) => toJson(state.clusters.add(input)),
    removeCluster: (resourceId) => state.clusters.remove(resourceId),
    setTags(resourceId, tags) {
      state.clusters.mustFind(resourceId).input.tags = { ...tags };
    },
    setApiServer(resourceId, apiServer) {
      state.clusters.mustFind(resourceId).input.apiServer = apiServer;
    },
    clusters: () => state.clusters.all().map(toJson),
    denyAction(action, scope = '/') {
      state.denials.deny(action, scope);
    },
    clearDenials() {
      state.denials.clear();
    },
    injectFault(fault) {
      state.faults.add({ ...fault }, fault.times ?? 1);
    },
    async stop() {
      await closeServer(server);
    },
  };
}
