import type { StoredArmCluster } from './ArmClusterStore.js';

/** The ARM JSON of a managed cluster, as `GET …/managedClusters/{name}` answers it. */
export function armClusterJson(c: StoredArmCluster, tenantId: string): Record<string, unknown> {
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
      agentPoolProfiles: [systemNodePool(version)],
      nodeResourceGroup: input.nodeResourceGroup,
      enableRBAC: true,
      ...(aad
        ? { aadProfile: { managed: true, enableAzureRBAC: input.azureRbac ?? true, tenantID: tenantId } }
        : {}),
      disableLocalAccounts: aad,
      networkProfile: overlayNetworkProfile(),
      maxAgentPools: 100,
    },
    identity: { type: 'SystemAssigned', principalId: c.principalId, tenantId },
    sku: { name: 'Base', tier: 'Free' },
  };
}

function systemNodePool(version: string): Record<string, unknown> {
  return {
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
  };
}

function overlayNetworkProfile(): Record<string, unknown> {
  return {
    networkPlugin: 'azure',
    networkPluginMode: 'overlay',
    loadBalancerSku: 'standard',
    serviceCidr: '10.0.0.0/16',
    dnsServiceIP: '10.0.0.10',
    podCidr: '10.244.0.0/16',
  };
}
