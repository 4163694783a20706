import { clusterType, tokenSecretName } from 'types.bicep'

metadata name = 'Function app'
metadata description = 'Flex Consumption plan and Linux function app (Node 22) running as a user-assigned identity, with identity-based host storage, Entra ID telemetry and the app-settings contract of shared/config/loadConfig.ts.'

@description('Required. Name of the function app.')
param name string

@description('Required. Name of the Flex Consumption plan.')
param planName string

@description('Required. Azure region.')
param location string

@description('Optional. Tags for the plan and the app.')
param tags object = {}

@description('Optional. Tags only for the app (azd finds the app it deploys to by its azd-service-name tag).')
param appTags object = {}

@description('Required. Resource ID of the user-assigned managed identity the app runs as.')
param identityResourceId string

@description('Required. Client ID of that identity.')
param identityClientId string

@description('Required. Blob endpoint of the storage account, ending in "/".')
param storageBlobEndpoint string

@description('Required. Queue endpoint of the storage account.')
param storageQueueEndpoint string

@description('Required. Table endpoint of the storage account.')
param storageTableEndpoint string

@description('Required. Blob container that holds the deployment package.')
param deploymentContainerName string

@description('Required. Application Insights connection string.')
param applicationInsightsConnectionString string

@description('Required. Key Vault URI, ending in "/".')
param keyVaultUri string

@description('Optional. Memory of each instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Optional. Upper bound on the number of instances the app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Optional. Resource ID of a subnet (delegated to Microsoft.App/environments) for outbound VNet integration. Empty: no VNet integration.')
param subnetResourceId string = ''

@description('Required. PANORAMA_URL: base URL of Panorama.')
param panoramaUrl string

@description('Optional. Key Vault secret that holds the Panorama API key.')
param panoramaApiKeySecretName string = 'panorama-api-key'

@description('Optional. PANORAMA_USERNAME. Set: the app logs in with it and PANORAMA_PASSWORD (a Key Vault reference to panoramaPasswordSecretName) instead of an API key. Empty: PANORAMA_API_KEY.')
param panoramaUsername string = ''

@description('Optional. Key Vault secret that holds the Panorama password (with panoramaUsername).')
param panoramaPasswordSecretName string = 'panorama-password'

@description('Optional. EVENT_GRID_SUBSCRIPTIONS: the subscriptions whose ARM events reach onResourceEvent, comma-separated ("none" before phase two). Clusters elsewhere sync on the timer only, and status says so.')
param eventGridSubscriptions string = 'none'

@description('Optional. PANORAMA_CA_CERT: PEM of a private CA. Empty: not set.')
param panoramaCaCert string = ''

@description('Optional. PANORAMA_VSYS, e.g. vsys1. Empty: not set.')
param panoramaVsys string = ''

@description('Optional. Monitored clusters, serialised into CLUSTERS.')
param clusters clusterType[] = []

@description('Optional. DISCOVERY_SUBSCRIPTIONS. Empty: not set.')
param discoverySubscriptions string[] = []

@description('Optional. DISCOVERY_TAG. Empty: not set.')
param discoveryTag string = ''

@description('Optional. RECONCILE_SCHEDULE (six-field NCRONTAB).')
param reconcileSchedule string = '0 */5 * * * *'

@description('Optional. AUDIT_INTERVAL_MINUTES.')
@minValue(1)
@maxValue(10080)
param auditIntervalMinutes int = 15

@description('Optional. TAG_TIMEOUT_MINUTES; 0 = persistent tags (the setting is left unset).')
@minValue(0)
@maxValue(43200)
param tagTimeoutMinutes int = 0

@description('Optional. Any other app settings the app reads (README, configuration reference), e.g. HTTPS_PROXY, NO_PROXY, SYNC_POLICY, REMOVAL_GUARD_PERCENT, MAX_TAGS_PER_IP, PANORAMA_CONCURRENCY. The settings this module sets itself win over them. No secrets: those go to Key Vault.')
param additionalAppSettings { *: string } = {}

// Versionless Key Vault references follow secret rotation (the platform re-reads them within 24 h, or at restart).
func keyVaultReference(vaultUri string, secretName string) string =>
  '@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/${secretName})'

// Host storage through the managed identity; the app itself reads the same settings (shared/config).
var hostStorageSettings = {
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
  AzureWebJobsStorage__queueServiceUri: storageQueueEndpoint
  AzureWebJobsStorage__tableServiceUri: storageTableEndpoint
}

// Read by the platform and the Azure SDKs, not by shared/config.
var platformSettings = {
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

// An API key, or a username with its password: never both (shared/config/loadConfig.ts prefers the key).
var panoramaCredentialSettings = empty(panoramaUsername)
  ? { PANORAMA_API_KEY: keyVaultReference(keyVaultUri, panoramaApiKeySecretName) }
  : {
      PANORAMA_USERNAME: panoramaUsername
      PANORAMA_PASSWORD: keyVaultReference(keyVaultUri, panoramaPasswordSecretName)
    }

// RECONCILE_SCHEDULE is always set: the timer trigger's schedule is %RECONCILE_SCHEDULE%.
var requiredAppSettings = {
  PANORAMA_URL: panoramaUrl
  EVENT_GRID_SUBSCRIPTIONS: eventGridSubscriptions
  CLUSTERS: string(clusters)
  RECONCILE_SCHEDULE: reconcileSchedule
  AUDIT_INTERVAL_MINUTES: string(auditIntervalMinutes)
}

// Set only when given, so the app's own defaults and "both or neither" checks apply.
var optionalAppSettings = {
  PANORAMA_CA_CERT: panoramaCaCert
  PANORAMA_VSYS: panoramaVsys
  DISCOVERY_SUBSCRIPTIONS: join(discoverySubscriptions, ',')
  DISCOVERY_TAG: discoveryTag
  TAG_TIMEOUT_MINUTES: tagTimeoutMinutes == 0 ? '' : string(tagTimeoutMinutes)
}

var givenOptionalAppSettings = toObject(
  filter(items(optionalAppSettings), setting => !empty(setting.value)),
  setting => setting.key,
  setting => setting.value
)

// One Key Vault reference per cluster that authenticates with a service-account token.
var clusterTokenSettings = toObject(
  filter(clusters, cluster => cluster.?auth.?type == 'token'),
  cluster => cluster.auth!.tokenSetting,
  cluster => keyVaultReference(keyVaultUri, tokenSecretName(cluster.auth!.tokenSetting))
)

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, appTags)
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityResourceId
    virtualNetworkSubnetId: empty(subnetResourceId) ? null : subnetResourceId
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

resource appSettings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: site
  name: 'appsettings'
  properties: union(
    additionalAppSettings,
    hostStorageSettings,
    platformSettings,
    requiredAppSettings,
    panoramaCredentialSettings,
    givenOptionalAppSettings,
    clusterTokenSettings
  )
}

// Deployments use Microsoft Entra ID (azd, az functionapp deploy); basic publishing credentials stay off.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

@description('Name of the function app.')
output name string = site.name

@description('Resource ID of the function app.')
output resourceId string = site.id

@description('Default host name of the function app.')
output defaultHostName string = site.properties.defaultHostName
