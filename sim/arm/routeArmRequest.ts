import type { StoredArmCluster } from './ArmClusterStore.js';
import { ArmHttpError } from './ArmHttpError.js';
import type { ArmSimulatorState } from './ArmSimulatorState.js';
import { armClusterJson } from './armClusterJson.js';
import { armListPage } from './armListPage.js';
import { checkArmApiVersion } from './checkArmApiVersion.js';
import { clusterUserKubeconfig } from './clusterUserKubeconfig.js';

const PROVIDER = 'microsoft.containerservice';
const READ = 'Microsoft.ContainerService/managedClusters/read';
const LIST_USER_CREDENTIAL = 'Microsoft.ContainerService/managedClusters/listClusterUserCredential/action';

interface ArmRoute {
  method: string;
  path: string;
  query: URLSearchParams;
  apiVersion: string;
  segments: string[];
  /** `segments` in lower case: ARM paths are case-insensitive. */
  lower: string[];
}

/**
 * Answers an authenticated request: checks its api-version and subscription, then serves the
 * subscription and resource-group lists, a cluster, or its user credential. Throws {@link ArmHttpError}.
 */
export function routeArmRequest(
  state: ArmSimulatorState,
  method: string,
  path: string,
  query: URLSearchParams,
): unknown {
  const apiVersion = checkArmApiVersion(query.get('api-version'), state.apiVersions);
  const segments = path.split('/').filter(Boolean);
  const lower = segments.map((s) => s.toLowerCase());
  if (lower[0] !== 'subscriptions' || segments[1] === undefined) throw resourceTypeNotFound();
  if (!state.clusters.hasSubscription(segments[1])) {
    throw new ArmHttpError(
      404,
      'SubscriptionNotFound',
      `The subscription '${segments[1]}' could not be found.`,
    );
  }
  const route: ArmRoute = { method, path, query, apiVersion, segments, lower };
  const inSubscription = state.clusters.inSubscription(segments[1]);
  if (
    lower.length === 5 &&
    lower[2] === 'providers' &&
    lower[3] === PROVIDER &&
    lower[4] === 'managedclusters'
  ) {
    return listClusters(state, route, inSubscription, `/subscriptions/${segments[1]}`);
  }
  return routeResourceGroup(state, route, inSubscription);
}

function routeResourceGroup(
  state: ArmSimulatorState,
  route: ArmRoute,
  inSubscription: StoredArmCluster[],
): unknown {
  const { segments, lower } = route;
  if (lower[2] !== 'resourcegroups' || segments[3] === undefined) throw resourceTypeNotFound();
  const rg = segments[3];
  const inRg = inSubscription.filter((c) => c.input.resourceGroup.toLowerCase() === rg.toLowerCase());
  const rgScope = `/subscriptions/${segments[1]}/resourceGroups/${rg}`;
  if (lower[4] !== 'providers' || lower[5] !== PROVIDER || lower[6] !== 'managedclusters') {
    throw resourceTypeNotFound();
  }
  if (lower.length === 7) return listClusters(state, route, inRg, rgScope);
  return routeCluster(state, route, inRg, rgScope);
}

function listClusters(
  state: ArmSimulatorState,
  route: ArmRoute,
  clusters: StoredArmCluster[],
  scope: string,
): unknown {
  if (route.method !== 'GET') throw methodNotAllowed();
  state.denials.check(READ, scope);
  return armListPage(clusters, route, state);
}

function routeCluster(
  state: ArmSimulatorState,
  route: ArmRoute,
  inRg: StoredArmCluster[],
  rgScope: string,
): unknown {
  const { method, lower } = route;
  const name = route.segments[7] ?? '';
  const cluster = inRg.find((c) => c.input.name.toLowerCase() === name.toLowerCase());
  const scope = `${rgScope}/providers/Microsoft.ContainerService/managedClusters/${name}`;
  if (lower.length === 8 && method === 'GET') {
    state.denials.check(READ, scope);
    return armClusterJson(mustExist(cluster, route), state.tenantId);
  }
  if (lower.length === 9 && lower[8] === 'listclusterusercredential' && method === 'POST') {
    state.denials.check(LIST_USER_CREDENTIAL, scope);
    const kubeconfig = clusterUserKubeconfig(mustExist(cluster, route), {
      format: route.query.get('format') ?? undefined,
      tenantId: state.tenantId,
      defaultCaPem: state.caPem,
    });
    return { kubeconfigs: [{ name: 'clusterUser', value: Buffer.from(kubeconfig).toString('base64') }] };
  }
  throw resourceTypeNotFound();
}

function mustExist(cluster: StoredArmCluster | undefined, route: ArmRoute): StoredArmCluster {
  if (cluster) return cluster;
  throw new ArmHttpError(
    404,
    'ResourceNotFound',
    `The Resource 'Microsoft.ContainerService/managedClusters/${route.segments[7] ?? ''}' under resource group '${route.segments[3]}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
}

function resourceTypeNotFound(): ArmHttpError {
  return new ArmHttpError(404, 'InvalidResourceType', 'The resource type could not be found.');
}

function methodNotAllowed(): ArmHttpError {
  return new ArmHttpError(405, 'MethodNotAllowed', 'The requested method is not allowed.');
}
