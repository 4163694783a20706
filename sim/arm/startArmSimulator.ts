import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { loadTestTls, type SimulatorTls } from '../kubernetes/loadTestTls.js';

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

interface StoredCluster {
  input: ArmClusterInput & { location: string; nodeResourceGroup: string };
  id: string;
  fqdn: string;
  principalId: string;
}

class ArmHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const PROVIDER = 'microsoft.containerservice';
const API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;

function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
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
  const pageSize = options.pageSize ?? 100;
  const tenantId = options.tenantId ?? '72f988bf-86f1-41af-91ab-2d7cd011db47';
  let token = options.token ?? `arm-${randomBytes(24).toString('hex')}`;
  const subscriptions = new Set((options.subscriptions ?? []).map((s) => s.toLowerCase()));
  const clusters = new Map<string, StoredCluster>();
  const denials: { action: string; scope: string }[] = [];
  const faults: (ArmFault & { remaining: number })[] = [];
  const requests: RecordedArmRequest[] = [];
  let url = '';

  const addCluster = (input: ArmClusterInput): Record<string, unknown> => {
    const location = input.location ?? 'westeurope';
    const id = `/subscriptions/${input.subscriptionId}/resourcegroups/${input.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${input.name}`;
    const stored: StoredCluster = {
      input: {
        ...input,
        location,
        nodeResourceGroup: input.nodeResourceGroup ?? `MC_${input.resourceGroup}_${input.name}_${location}`,
      },
      id,
      fqdn: `${input.name}-dns-${randomBytes(4).toString('hex')}.hcp.${location}.azmk8s.io`,
      principalId: randomUUID(),
    };
    subscriptions.add(input.subscriptionId.toLowerCase());
    clusters.set(id.toLowerCase(), stored);
    return toJson(stored);
  };

  const mustFind = (resourceId: string): StoredCluster => {
    const found = clusters.get(resourceId.toLowerCase());
    if (!found) throw new Error(`simulator: no cluster ${resourceId}`);
    return found;
  };

  const toJson = (c: StoredCluster): Record<string, unknown> => {
    const { input } = c;
    const aad = input.aad ?? true;
    const version = input.kubernetesVersion ?? '1.33.2';
    return {
      id: c.id,
      location: input.location,
      name: input.name,
      ...(input.tags ? { tags: input.tags } : {}),
      type: 'Microsoft.ContainerService/ManagedClusters',
      properties: {
        provisioningState: 'Succeeded',
        powerState: { code: 'Running' },
        kubernetesVersion: version,
        currentKubernetesVersion: version,
        dnsPrefix: `${input.name}-dns`,
        fqdn: c.fqdn,
        azurePortalFQDN: c.fqdn.replace('.hcp.', '.portal.hcp.'),
        agentPoolProfiles: [
          {
            name: 'nodepool1',
            count: 3,
            vmSize: 'Standard_D4ds_v5',
            osDiskSizeGB: 128,
            osType: 'Linux',
            mode: 'System',
            type: 'VirtualMachineScaleSets',
            provisioningState: 'Succeeded',
            powerState: { code: 'Running' },
            orchestratorVersion: version,
          },
        ],
        nodeResourceGroup: input.nodeResourceGroup,
        enableRBAC: true,
        ...(aad
          ? { aadProfile: { managed: true, enableAzureRBAC: input.azureRbac ?? true, tenantID: tenantId } }
          : {}),
        disableLocalAccounts: aad,
        networkProfile: {
          networkPlugin: 'azure',
          networkPluginMode: 'overlay',
          loadBalancerSku: 'standard',
          serviceCidr: '10.0.0.0/16',
          dnsServiceIP: '10.0.0.10',
          podCidr: '10.244.0.0/16',
        },
        maxAgentPools: 100,
      },
      identity: { type: 'SystemAssigned', principalId: c.principalId, tenantId },
      sku: { name: 'Base', tier: 'Free' },
    };
  };

  const kubeconfig = (c: StoredCluster, format: string | undefined): string => {
    const { input } = c;
    const server = input.apiServer?.url ?? `https://${c.fqdn}:443`;
    const ca = input.apiServer?.caData ?? Buffer.from(tls.ca).toString('base64');
    const user = `clusterUser_${input.resourceGroup}_${input.name}`;
    const aad = input.aad ?? true;
    let userSection: string;
    if (!aad) {
      userSection = [
        `    client-certificate-data: ${Buffer.from('-----BEGIN CERTIFICATE-----\nsimulated\n-----END CERTIFICATE-----\n').toString('base64')}`,
        `    client-key-data: ${Buffer.from('-----BEGIN RSA PRIVATE KEY-----\nsimulated\n-----END RSA PRIVATE KEY-----\n').toString('base64')}`,
        `    token: ${randomBytes(32).toString('hex')}`,
      ].join('\n');
    } else if (format === 'azure') {
      userSection = [
        '    auth-provider:',
        '      config:',
        '        apiserver-id: 6dae42f8-4368-4678-94ff-3960e28e3630',
        '        client-id: 80faf920-1908-4b52-b5ef-a8e7bedfc67a',
        '        config-mode: "1"',
        '        environment: AzurePublicCloud',
        `        tenant-id: ${tenantId}`,
        '      name: azure',
      ].join('\n');
    } else {
      userSection = [
        '    exec:',
        '      apiVersion: client.authentication.k8s.io/v1beta1',
        '      args:',
        '      - get-token',
        '      - --environment',
        '      - AzurePublicCloud',
        '      - --server-id',
        '      - 6dae42f8-4368-4678-94ff-3960e28e3630',
        '      - --client-id',
        '      - 80faf920-1908-4b52-b5ef-a8e7bedfc67a',
        '      - --tenant-id',
        `      - ${tenantId}`,
        '      - --login',
        '      - devicecode',
        '      command: kubelogin',
        '      env: null',
        '      installHint: |2',
        '',
        '        kubelogin is not installed which is required to connect to AAD enabled cluster.',
        '',
        '        To learn more, please go to https://aka.ms/aks/kubelogin',
        '      interactiveMode: IfNeeded',
        '      provideClusterInfo: false',
      ].join('\n');
    }
    return [
      'apiVersion: v1',
      'clusters:',
      '- cluster:',
      `    certificate-authority-data: ${ca}`,
      `    server: ${server}`,
      `  name: ${input.name}`,
      'contexts:',
      '- context:',
      `    cluster: ${input.name}`,
      `    user: ${user}`,
      `  name: ${input.name}`,
      `current-context: ${input.name}`,
      'kind: Config',
      'preferences: {}',
      'users:',
      `- name: ${user}`,
      '  user:',
      userSection,
      '',
    ].join('\n');
  };

  const checkDenied = (action: string, scope: string) => {
    const denied = denials.find(
      (d) =>
        d.action.toLowerCase() === action.toLowerCase() &&
        scope.toLowerCase().startsWith(d.scope.toLowerCase()),
    );
    if (denied) {
      const oid = '00000000-0000-0000-0000-00000000c0de';
      throw new ArmHttpError(
        403,
        'AuthorizationFailed',
        `The client '${oid}' with object id '${oid}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
      );
    }
  };

  const listPage = (all: StoredCluster[], query: URLSearchParams, path: string, apiVersion: string) => {
    const skip = Number(query.get('$skipToken') ?? '0');
    const start = Number.isInteger(skip) && skip > 0 ? skip : 0;
    const page = all.slice(start, start + pageSize);
    const next = start + pageSize;
    return {
      value: page.map(toJson),
      ...(next < all.length
        ? { nextLink: `${url}${path}?api-version=${encodeURIComponent(apiVersion)}&%24skipToken=${next}` }
        : {}),
    };
  };

  const route = (method: string, path: string, query: URLSearchParams): unknown => {
    const apiVersion = query.get('api-version');
    if (!apiVersion) {
      throw new ArmHttpError(
        400,
        'MissingApiVersionParameter',
        'The api-version query parameter (?api-version=) is required for all requests.',
      );
    }
    const accepted = options.apiVersions
      ? options.apiVersions.includes(apiVersion)
      : API_VERSION.test(apiVersion);
    if (!accepted) {
      throw new ArmHttpError(
        400,
        'NoRegisteredProviderFound',
        `No registered resource provider found for location 'westeurope' and API version '${apiVersion}' for type 'managedClusters'. The supported api-versions are '${(options.apiVersions ?? ['2026-04-01']).join(', ')}'.`,
      );
    }
    const segments = path.split('/').filter(Boolean);
    const lower = segments.map((s) => s.toLowerCase());
    if (lower[0] !== 'subscriptions' || segments[1] === undefined) {
      throw new ArmHttpError(404, 'InvalidResourceType', `The resource type could not be found.`);
    }
    const sub = segments[1].toLowerCase();
    if (!subscriptions.has(sub)) {
      throw new ArmHttpError(
        404,
        'SubscriptionNotFound',
        `The subscription '${segments[1]}' could not be found.`,
      );
    }
    const all = [...clusters.values()].filter((c) => c.input.subscriptionId.toLowerCase() === sub);
    // /subscriptions/{sub}/providers/Microsoft.ContainerService/managedClusters
    if (
      lower.length === 5 &&
      lower[2] === 'providers' &&
      lower[3] === PROVIDER &&
      lower[4] === 'managedclusters'
    ) {
      if (method !== 'GET')
        throw new ArmHttpError(405, 'MethodNotAllowed', 'The requested method is not allowed.');
      checkDenied('Microsoft.ContainerService/managedClusters/read', `/subscriptions/${segments[1]}`);
      return listPage(all, query, path, apiVersion);
    }
    if (lower[2] !== 'resourcegroups' || segments[3] === undefined) {
      throw new ArmHttpError(404, 'InvalidResourceType', 'The resource type could not be found.');
    }
    const rg = segments[3];
    const inRg = all.filter((c) => c.input.resourceGroup.toLowerCase() === rg.toLowerCase());
    const rgScope = `/subscriptions/${segments[1]}/resourceGroups/${rg}`;
    if (lower[4] !== 'providers' || lower[5] !== PROVIDER || lower[6] !== 'managedclusters') {
      throw new ArmHttpError(404, 'InvalidResourceType', 'The resource type could not be found.');
    }
    if (lower.length === 7) {
      if (method !== 'GET')
        throw new ArmHttpError(405, 'MethodNotAllowed', 'The requested method is not allowed.');
      checkDenied('Microsoft.ContainerService/managedClusters/read', rgScope);
      return listPage(inRg, query, path, apiVersion);
    }
    const name = segments[7] ?? '';
    const cluster = inRg.find((c) => c.input.name.toLowerCase() === name.toLowerCase());
    const scope = `${rgScope}/providers/Microsoft.ContainerService/managedClusters/${name}`;
    if (lower.length === 8 && method === 'GET') {
      checkDenied('Microsoft.ContainerService/managedClusters/read', scope);
      if (!cluster) {
        throw new ArmHttpError(
          404,
          'ResourceNotFound',
          `The Resource 'Microsoft.ContainerService/managedClusters/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
        );
      }
      return toJson(cluster);
    }
    if (lower.length === 9 && lower[8] === 'listclusterusercredential' && method === 'POST') {
      checkDenied('Microsoft.ContainerService/managedClusters/listClusterUserCredential/action', scope);
      if (!cluster) {
        throw new ArmHttpError(
          404,
          'ResourceNotFound',
          `The Resource 'Microsoft.ContainerService/managedClusters/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
        );
      }
      const value = Buffer.from(kubeconfig(cluster, query.get('format') ?? undefined)).toString('base64');
      return { kubeconfigs: [{ name: 'clusterUser', value }] };
    }
    throw new ArmHttpError(404, 'InvalidResourceType', 'The resource type could not be found.');
  };

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const parsed = new URL(req.url ?? '/', 'https://simulator');
    const record: RecordedArmRequest = {
      method: req.method ?? 'GET',
      path: parsed.pathname,
      apiVersion: parsed.searchParams.get('api-version') ?? undefined,
      status: 0,
    };
    requests.push(record);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      const requestId = randomUUID();
      res.writeHead(status, {
        'Content-Type': 'application/json; charset=utf-8',
        'x-ms-request-id': requestId,
        'x-ms-correlation-request-id': requestId,
        'x-ms-ratelimit-remaining-subscription-reads': '249',
        ...headers,
      });
      res.end(JSON.stringify(body));
    };
    req.resume();
    req.on('end', () => {
      try {
        const auth = req.headers.authorization;
        if (!auth) {
          throw new ArmHttpError(
            401,
            'AuthenticationFailed',
            "Authentication failed. The 'Authorization' header is missing.",
            {
              'WWW-Authenticate': `Bearer authorization_uri="https://login.microsoftonline.com/${tenantId}", error="invalid_token", error_description="The authentication failed because of missing 'Authorization' header."`,
            },
          );
        }
        const presented = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length).trim() : '';
        if (!tokensEqual(presented, token)) {
          throw new ArmHttpError(401, 'InvalidAuthenticationToken', 'The access token is invalid.', {
            'WWW-Authenticate': `Bearer authorization_uri="https://login.microsoftonline.com/${tenantId}", error="invalid_token", error_description="The access token is invalid."`,
          });
        }
        const faultIndex = faults.findIndex(
          (f) => !f.pathContains || parsed.pathname.toLowerCase().includes(f.pathContains.toLowerCase()),
        );
        const fault = faults[faultIndex];
        if (fault) {
          fault.remaining -= 1;
          if (fault.remaining <= 0) faults.splice(faultIndex, 1);
          const retryAfter = fault.retryAfterSeconds ?? (fault.status === 429 ? 1 : undefined);
          throw new ArmHttpError(
            fault.status,
            fault.status === 429 ? 'TooManyRequests' : 'InternalServerError',
            fault.status === 429
              ? 'The request is being throttled.'
              : 'An internal server error occurred. Please retry later.',
            retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) },
          );
        }
        send(200, route(record.method, parsed.pathname, parsed.searchParams));
      } catch (err) {
        if (err instanceof ArmHttpError) {
          send(err.status, { error: { code: err.code, message: err.message } }, err.headers);
        } else {
          send(500, { error: { code: 'InternalServerError', message: String(err) } });
        }
      }
    });
  };

  const server = https.createServer({ cert: tls.cert, key: tls.key }, handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const c of options.clusters ?? []) addCluster(c);

  return {
    url,
    caPem: tls.ca,
    get token() {
      return token;
    },
    requests,
    setToken(next) {
      token = next;
    },
    addCluster,
    removeCluster: (resourceId) => clusters.delete(resourceId.toLowerCase()),
    setTags(resourceId, tags) {
      mustFind(resourceId).input.tags = { ...tags };
    },
    setApiServer(resourceId, apiServer) {
      mustFind(resourceId).input.apiServer = apiServer;
    },
    clusters: () => [...clusters.values()].map(toJson),
    denyAction(action, scope = '/') {
      denials.push({ action, scope: scope === '/' ? '' : scope });
    },
    clearDenials() {
      denials.length = 0;
    },
    injectFault(fault) {
      faults.push({ ...fault, remaining: fault.times ?? 1 });
    },
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
