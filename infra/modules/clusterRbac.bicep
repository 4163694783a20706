metadata name = 'Cluster role assignments'
metadata description = 'Roles of the app identity on one monitored AKS cluster: fetch its user kubeconfig through ARM (Cluster User Role) and read Services through Azure RBAC for Kubernetes (RBAC Reader). Deployed into the cluster\'s resource group.'

@description('Required. Name of the AKS cluster (in this deployment\'s resource group).')
param clusterName string

@description('Required. Object (principal) ID of the app identity.')
param principalId string

var roles = {
  aksClusterUser: '4abbcc35-e782-43d8-92c5-2d3f1bd2253f'
  aksRbacReader: '7f6c6a51-bcf8-42ba-9220-52d62157d7db'
}

resource cluster 'Microsoft.ContainerService/managedClusters@2025-10-01' existing = {
  name: clusterName
}

resource clusterRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in [roles.aksClusterUser, roles.aksRbacReader]: {
    name: guid(cluster.id, principalId, roleId)
    scope: cluster
    properties: {
      principalId: principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    }
  }
]
