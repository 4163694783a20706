targetScope = 'subscription'

metadata name = 'Discovery role assignments'
metadata description = 'Roles of the app identity on one subscription it discovers clusters in (DISCOVERY_SUBSCRIPTIONS): Reader to list clusters by tag, and optionally the two cluster roles for every cluster in the subscription.'

@description('Required. Object (principal) ID of the app identity.')
param principalId string

@description('Optional. Also assign "Azure Kubernetes Service Cluster User Role" and "Azure Kubernetes Service RBAC Reader" at subscription scope, so clusters discovered later need no per-cluster grant. Broader than per-cluster assignments; off by default.')
param grantClusterRoles bool = false

var roles = {
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7'
  aksClusterUser: '4abbcc35-e782-43d8-92c5-2d3f1bd2253f'
  aksRbacReader: '7f6c6a51-bcf8-42ba-9220-52d62157d7db'
}

var roleIds = grantClusterRoles ? [roles.reader, roles.aksClusterUser, roles.aksRbacReader] : [roles.reader]

resource discoveryRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in roleIds: {
    name: guid(subscription().id, principalId, roleId)
    properties: {
      principalId: principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    }
  }
]
