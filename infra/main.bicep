targetScope = 'subscription'

import { clusterType } from 'modules/types.bicep'

metadata name = 'aks-panorama-sync'
metadata description = 'Deploys aks-panorama-sync: a Flex Consumption function app that keeps Palo Alto Panorama IP tags in step with AKS. Subscription scope, because it creates the resource group, the subscription\'s Event Grid system topic and role assignments on clusters and subscriptions outside that resource group.'

// ---------------------------------------------------------------------------
// General
// ---------------------------------------------------------------------------

@description('Required. Name of the environment (azd: AZURE_ENV_NAME). Seeds resource names and tags.')
@minLength(1)
@maxLength(64)
param environmentName string

@description('Optional. Azure region of the resources. Default: the deployment\'s location.')
param location string = deployment().location

@description('Optional. Resource group to create or update. Default: rg-<environmentName>.')
param resourceGroupName string = ''

@description('Optional. Tags for every resource.')
param tags object = {}

@description('Optional. Function app name. Default: func-<token>.')
param functionAppName string = ''

@description('Optional. Storage account name. Default: st<token>.')
param storageAccountName string = ''

@description('Optional. Key Vault name. Default: kv-<token>.')
param keyVaultName string = ''

// ---------------------------------------------------------------------------
// Panorama
// ---------------------------------------------------------------------------

@description('Required. PANORAMA_URL: base URL of Panorama, e.g. https://panorama.example.net.')
param panoramaUrl string

@description('Optional. The Panorama API key, written to Key Vault. Leave empty (the default) and set the secret out of band; never put it in a committed parameters file.')
@secure()
param panoramaApiKey string = ''

@description('Optional. PANORAMA_USERNAME: log in to Panorama with this administrator and its password (the Key Vault secret panoramaPasswordSecretName) instead of an API key. Empty (the default): the API key.')
param panoramaUsername string = ''

@description('Optional. The Panorama password (with panoramaUsername), written to Key Vault. Leave empty (the default): the azd postprovision hook asks for it, or set the secret out of band.')
@secure()
param panoramaPassword string = ''

@description('Optional. Key Vault secret that holds the Panorama password (PANORAMA_PASSWORD is a Key Vault reference to it).')
@minLength(1)
@maxLength(127)
param panoramaPasswordSecretName string = 'panorama-password'

@description('Optional. Key Vault secret that holds the Panorama API key (PANORAMA_API_KEY is a Key Vault reference to it).')
@minLength(1)
@maxLength(127)
param panoramaApiKeySecretName string = 'panorama-api-key'

@description('Optional. PANORAMA_CA_CERT: PEM of the private CA that issued Panorama\'s certificate. Empty: the public trust store.')
param panoramaCaCert string = ''

@description('Optional. PANORAMA_VSYS: target virtual system, e.g. vsys1. Empty: the device default.')
param panoramaVsys string = ''

// ---------------------------------------------------------------------------
// Clusters
// ---------------------------------------------------------------------------

@description('Optional. CLUSTERS: the monitored AKS clusters. Clusters with subscriptionId and resourceGroup get their role assignments from this deployment (see assignClusterRoles).')
param clusters clusterType[] = []

@description('Optional. Service-account tokens for clusters with auth type "token", keyed by tokenSetting, written to Key Vault. Leave empty (the default) and set the secrets out of band.')
@secure()
param clusterTokens object = {}

@description('Optional. Assign "Azure Kubernetes Service Cluster User Role" and "Azure Kubernetes Service RBAC Reader" to the app identity on every Entra ID-authenticated cluster in clusters that has subscriptionId and resourceGroup. Needs permission to assign roles on those clusters.')
param assignClusterRoles bool = true

@description('Optional. DISCOVERY_SUBSCRIPTIONS: subscriptions to discover tagged clusters in. The app identity gets Reader on each. Set together with discoveryTag.')
param discoverySubscriptions string[] = []

@description('Optional. DISCOVERY_TAG: the Azure tag that marks a cluster for sync (its value names the notify device group). Set together with discoverySubscriptions.')
param discoveryTag string = ''

@description('Optional. Also assign the two cluster roles at the scope of each discovery subscription, so clusters tagged later need no per-cluster grant. Broader than per-cluster grants.')
param grantClusterRolesOnDiscoverySubscriptions bool = false

@description('Optional. RECONCILE_SCHEDULE: six-field NCRONTAB of the reconcile timer.')
@minLength(11)
param reconcileSchedule string = '0 */5 * * * *'

@description('Optional. AUDIT_INTERVAL_MINUTES: minimum minutes between two drift audits of a Panorama target.')
@minValue(1)
@maxValue(10080)
param auditIntervalMinutes int = 15

@description('Optional. TAG_TIMEOUT_MINUTES: registered tags expire this long after their last registration (the audit refreshes them); 0 = persistent tags (the default). At least 2 x auditIntervalMinutes. See docs/tags.md.')
@minValue(0)
@maxValue(43200)
param tagTimeoutMinutes int = 0

@description('Optional. Minutes without a reconcile timer run before the "not reconciling" alert fires: at least twice reconcileSchedule\'s interval.')
@minValue(15)
@maxValue(1440)
param reconcileSilenceMinutes int = 30

@description('Optional. Any other app settings the app reads, by name (README, configuration reference): HTTPS_PROXY, NO_PROXY, SYNC_POLICY, REMOVAL_GUARD_PERCENT, REMOVAL_GUARD_MIN, MAX_TAGS_PER_IP, PANORAMA_CONCURRENCY, PANORAMA_PERMIT_SECONDS, PANORAMA_TIMEOUT_MS, PANORAMA_CHUNK_SIZE, ARM_ENDPOINT. Every deployment writes all app settings, so settings added by hand are removed: set them here. The settings the template sets itself win; secrets go to Key Vault, never here.')
param additionalAppSettings { *: string } = {}

// ---------------------------------------------------------------------------
// Hosting
// ---------------------------------------------------------------------------

@description('Optional. Memory of each Flex Consumption instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Optional. Upper bound on Flex Consumption instances (40, the minimum, by default: each instance runs up to 4 pushes at once, see docs/host-json.md).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Optional. Resource ID of an existing subnet, delegated to Microsoft.App/environments, for outbound VNet integration (private AKS API servers, a Panorama reachable only privately). Empty: no VNet integration.')
param vnetIntegrationSubnetId string = ''

@description('Optional. "recover" recovers a soft-deleted Key Vault of the same name (purge protection keeps the name for 90 days after "azd down"); "default" creates it. azd: KEY_VAULT_CREATE_MODE, set by scripts/azd-preprovision.sh.')
@allowed([
  'default'
  'recover'
])
param keyVaultCreateMode string = 'default'

@description('Optional. Object ID of the principal running the deployment (azd sets AZURE_PRINCIPAL_ID): Key Vault Secrets Officer on the vault, so that the postprovision hook can write the Panorama secret. Empty: none.')
param deployerPrincipalId string = ''

@description('Optional. Object ID of a user or group that may set and rotate the Key Vault secrets (Key Vault Secrets Officer on the vault). Empty: none.')
param vaultOperatorPrincipalId string = ''

@description('Optional. Principal type of vaultOperatorPrincipalId.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param vaultOperatorPrincipalType string = 'User'

// ---------------------------------------------------------------------------
// Event Grid
// ---------------------------------------------------------------------------

@description('Optional. Name of the subscription\'s existing Microsoft.Resources.Subscriptions system topic. Only one may exist per subscription: if one exists, name it here (with existingSystemTopicResourceGroupName). Empty: create one in the app\'s resource group.')
param existingSystemTopicName string = ''

@description('Conditional. Resource group of existingSystemTopicName. Required when existingSystemTopicName is set.')
param existingSystemTopicResourceGroupName string = ''

@description('Optional. Existing Microsoft.Resources.Subscriptions system topics of the other monitored subscriptions, keyed by subscription ID: {"<subscription>": {"name": "...", "resourceGroup": "..."}}. A subscription not listed gets a topic in a new resource group rg-<environmentName>-events.')
param existingSystemTopics object = {}

@description('Optional. Monitored subscriptions (from clusters and discoverySubscriptions) that get no system topic or event subscription, because the deployer may not write there: their clusters sync on the reconcile timer only, and status says so.')
param timerOnlySubscriptions string[] = []

@description('Optional. Second phase: create the event subscription to the onResourceEvent function. Leave false until the code is deployed (the function must exist); azd\'s postdeploy hook sets it.')
param deployEventSubscription bool = false

// ---------------------------------------------------------------------------
// Alerts
// ---------------------------------------------------------------------------

@description('Optional. E-mail address the alerts notify. Empty: the alerts fire in Azure Monitor without a notification (or only to actionGroupResourceId).')
param alertEmail string = ''

@description('Optional. Resource ID of an existing action group the alerts notify.')
param actionGroupResourceId string = ''

// ---------------------------------------------------------------------------

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var allTags = union(tags, { 'azd-env-name': environmentName })
var rgName = empty(resourceGroupName) ? '${abbrs.resourcesResourceGroups}${environmentName}' : resourceGroupName
var appName = empty(functionAppName) ? '${abbrs.webSitesFunctions}${resourceToken}' : functionAppName
var createSystemTopic = empty(existingSystemTopicName)
var topicResourceGroupName = createSystemTopic ? rgName : existingSystemTopicResourceGroupName

// Names are computed here rather than read from module outputs, so What-If can predict the modules that use them.
var names = {
  storageAccount: empty(storageAccountName) ? '${abbrs.storageStorageAccounts}${resourceToken}' : storageAccountName
  keyVault: empty(keyVaultName) ? '${abbrs.keyVaultVaults}${resourceToken}' : keyVaultName
  applicationInsights: '${abbrs.insightsComponents}${resourceToken}'
  systemTopic: createSystemTopic ? '${abbrs.eventGridSystemTopics}${resourceToken}' : existingSystemTopicName
}

// Every monitored subscription other than this one gets its own system topic and event subscription,
// unless the deployer may not write there (timerOnlySubscriptions).
var deploymentSubscription = toLower(subscription().subscriptionId)
var monitoredSubscriptions = union(
  map(filter(clusters, cluster => !empty(cluster.?subscriptionId ?? '')), cluster => toLower(cluster.subscriptionId!)),
  map(discoverySubscriptions, id => toLower(id))
)
var skippedSubscriptions = map(timerOnlySubscriptions, id => toLower(id))
var otherEventSubscriptions = filter(
  monitoredSubscriptions,
  id => id != deploymentSubscription && !contains(skippedSubscriptions, id)
)
var eventGridSubscriptions = deployEventSubscription
  ? join(concat([deploymentSubscription], otherEventSubscriptions), ',')
  : 'none'

// Entra ID-authenticated clusters whose ARM scope is known get per-cluster role assignments
// (token-authenticated clusters need no Azure role).
var clustersWithScope = filter(
  clusters,
  cluster =>
    cluster.?auth.?type != 'token' && !empty(cluster.?subscriptionId ?? '') && !empty(cluster.?resourceGroup ?? '')
)

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: rgName
  location: location
  tags: allTags
}

module identity 'modules/identity.bicep' = {
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}${resourceToken}'
    location: location
    tags: allTags
  }
}

module storage 'modules/storage.bicep' = {
  scope: rg
  params: {
    name: names.storageAccount
    location: location
    tags: allTags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: names.applicationInsights
    location: location
    tags: allTags
  }
}

module keyVault 'modules/keyVault.bicep' = {
  scope: rg
  params: {
    name: names.keyVault
    location: location
    tags: allTags
    panoramaApiKeySecretName: panoramaApiKeySecretName
    panoramaApiKey: panoramaApiKey
    panoramaPasswordSecretName: panoramaPasswordSecretName
    panoramaPassword: panoramaPassword
    clusterTokens: clusterTokens
    createMode: keyVaultCreateMode
  }
}

module rbac 'modules/rbac.bicep' = {
  scope: rg
  params: {
    // The principal ID is known only at run time; What-If shows these role assignments as unpredictable.
    #disable-next-line what-if-short-circuiting
    principalId: identity.outputs.principalId
    storageAccountName: names.storageAccount
    keyVaultName: names.keyVault
    applicationInsightsName: names.applicationInsights
    vaultOperatorPrincipalId: vaultOperatorPrincipalId
    vaultOperatorPrincipalType: vaultOperatorPrincipalType
    deployerPrincipalId: deployerPrincipalId
  }
  dependsOn: [
    storage
    keyVault
    monitoring
  ]
}

module functionApp 'modules/functionApp.bicep' = {
  scope: rg
  params: {
    name: appName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: allTags
    appTags: { 'azd-service-name': 'api' }
    identityResourceId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    keyVaultUri: keyVault.outputs.vaultUri
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    subnetResourceId: vnetIntegrationSubnetId
    panoramaUrl: panoramaUrl
    panoramaApiKeySecretName: panoramaApiKeySecretName
    panoramaUsername: panoramaUsername
    panoramaPasswordSecretName: panoramaPasswordSecretName
    eventGridSubscriptions: eventGridSubscriptions
    panoramaCaCert: panoramaCaCert
    panoramaVsys: panoramaVsys
    clusters: clusters
    discoverySubscriptions: discoverySubscriptions
    discoveryTag: discoveryTag
    reconcileSchedule: reconcileSchedule
    auditIntervalMinutes: auditIntervalMinutes
    tagTimeoutMinutes: tagTimeoutMinutes
    additionalAppSettings: additionalAppSettings
  }
  // The host starts as soon as the app exists: let it find its storage and Key Vault roles.
  dependsOn: [
    rbac
  ]
}

module clusterRbac 'modules/clusterRbac.bicep' = [
  for (cluster, i) in (assignClusterRoles ? clustersWithScope : []): {
    name: take('cluster-rbac-${resourceToken}-${i}-${cluster.name}', 64)
    scope: resourceGroup(cluster.subscriptionId!, cluster.resourceGroup!)
    params: {
      clusterName: cluster.name
      #disable-next-line what-if-short-circuiting
      principalId: identity.outputs.principalId
    }
  }
]

module discoveryRbac 'modules/discoveryRbac.bicep' = [
  for (subscriptionId, i) in discoverySubscriptions: {
    name: take('discovery-rbac-${i}-${resourceToken}', 64)
    scope: subscription(subscriptionId)
    params: {
      #disable-next-line what-if-short-circuiting
      principalId: identity.outputs.principalId
      grantClusterRoles: grantClusterRolesOnDiscoverySubscriptions
    }
  }
]

module systemTopic 'modules/systemTopic.bicep' = if (createSystemTopic) {
  scope: rg
  params: {
    name: names.systemTopic
    tags: allTags
  }
}

module eventSubscription 'modules/eventSubscription.bicep' = if (deployEventSubscription) {
  scope: resourceGroup(topicResourceGroupName)
  params: {
    systemTopicName: names.systemTopic
    functionAppName: functionApp.outputs.name
    functionAppResourceGroupName: rg.name
  }
  dependsOn: [
    systemTopic
  ]
}

module subscriptionEvents 'modules/subscriptionEvents.bicep' = [
  for (subscriptionId, i) in otherEventSubscriptions: {
    name: take('events-${i}-${resourceToken}', 64)
    scope: subscription(subscriptionId)
    params: {
      resourceGroupName: '${rgName}-events'
      location: location
      tags: allTags
      systemTopicName: '${abbrs.eventGridSystemTopics}${resourceToken}'
      existingSystemTopicName: existingSystemTopics[?subscriptionId].?name ?? ''
      existingSystemTopicResourceGroupName: existingSystemTopics[?subscriptionId].?resourceGroup ?? ''
      deployEventSubscription: deployEventSubscription
      functionAppName: functionApp.outputs.name
      functionAppResourceGroupName: rg.name
      functionAppSubscriptionId: subscription().subscriptionId
    }
  }
]

module alerts 'modules/alerts.bicep' = {
  scope: rg
  params: {
    namePrefix: appName
    location: location
    tags: allTags
    applicationInsightsName: names.applicationInsights
    alertEmail: alertEmail
    actionGroupResourceId: actionGroupResourceId
    reconcileSilenceMinutes: reconcileSilenceMinutes
  }
  dependsOn: [
    monitoring
  ]
}

module workbook 'modules/workbook.bicep' = {
  scope: rg
  params: {
    displayName: 'aks-panorama-sync (${environmentName})'
    location: location
    tags: allTags
    applicationInsightsName: names.applicationInsights
  }
  dependsOn: [
    monitoring
  ]
}

@description('Azure region of the deployment (azd reads it).')
output AZURE_LOCATION string = location

@description('Tenant of the deployment.')
output AZURE_TENANT_ID string = tenant().tenantId

@description('Resource group of the app.')
output AZURE_RESOURCE_GROUP string = rg.name

@description('Name of the function app (deploy the code to it).')
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name

@description('Object (principal) ID of the app\'s managed identity: grant it Kubernetes RBAC on clusters this deployment did not cover.')
output MANAGED_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId

@description('Client ID of the app\'s managed identity.')
output MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId

@description('Name of the storage account (queues cluster-recompute and tag-deltas, tables clusterstate and targetstate).')
output STORAGE_ACCOUNT_NAME string = storage.outputs.name

@description('Name of the Key Vault: set the secret panoramaApiKeySecretName (and any cluster token secrets) here.')
output KEY_VAULT_NAME string = keyVault.outputs.name

@description('Name of the Microsoft.Resources.Subscriptions system topic the event subscription uses.')
output EVENT_GRID_SYSTEM_TOPIC_NAME string = names.systemTopic

@description('Resource group of that system topic.')
output EVENT_GRID_SYSTEM_TOPIC_RESOURCE_GROUP string = topicResourceGroupName

@description('Subscriptions whose ARM events reach the app (EVENT_GRID_SUBSCRIPTIONS; "none" before phase two). Clusters in other monitored subscriptions sync on the timer only.')
output EVENT_GRID_SUBSCRIPTIONS string = eventGridSubscriptions

@description('The Key Vault secret the app reads its Panorama credential from (the API key, or the password with panoramaUsername): the postprovision hook writes it.')
output PANORAMA_SECRET_NAME string = empty(panoramaUsername) ? panoramaApiKeySecretName : panoramaPasswordSecretName
