// Parameters for main.bicep. No secrets here: this file is committed.
// Values come from environment variables (azd passes its environment, e.g. `azd env set PANORAMA_URL …`;
// with az, export them first). See docs/deploy.md for every parameter.
using 'main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME')

param panoramaUrl = readEnvironmentVariable('PANORAMA_URL')

// JSON array of clusters, e.g.
// [{"name":"aks-prod-1","subscriptionId":"<sub>","resourceGroup":"rg-aks","nodeResourceGroup":"MC_rg-aks_aks-prod-1_westeurope","deviceGroups":["dg-spoke-1"]}]
param clusters = json(readEnvironmentVariable('CLUSTERS', '[]'))

// Phase two: set by scripts/azd-postdeploy.sh once the code (and so the onResourceEvent function) exists.
param deployEventSubscription = bool(readEnvironmentVariable('DEPLOY_EVENT_SUBSCRIPTION', 'false'))

// The subscription's existing Microsoft.Resources.Subscriptions system topic, if it has one.
param existingSystemTopicName = readEnvironmentVariable('EXISTING_SYSTEM_TOPIC_NAME', '')
param existingSystemTopicResourceGroupName = readEnvironmentVariable('EXISTING_SYSTEM_TOPIC_RESOURCE_GROUP', '')

// Optional overrides (defaults in main.bicep):
// param resourceGroupName = 'rg-aks-panorama-sync'
// param tags = { owner: 'netsec' }
// param functionAppName = ''
// param storageAccountName = ''
// param keyVaultName = ''
// param panoramaApiKeySecretName = 'panorama-api-key'
// param panoramaCaCert = loadTextContent('panorama-ca.pem')
// param panoramaVsys = 'vsys1'
// param assignClusterRoles = true
// param discoverySubscriptions = [ '<subscription-id>' ]
// param discoveryTag = 'panorama-sync'
// param grantClusterRolesOnDiscoverySubscriptions = false
// param reconcileSchedule = '0 */5 * * * *'
// param auditIntervalMinutes = 15
// param instanceMemoryMB = 2048
// param maximumInstanceCount = 100
// param vnetIntegrationSubnetId = '/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>'
// param vaultOperatorPrincipalId = '<object id of the team that rotates the Panorama key>'
// param vaultOperatorPrincipalType = 'Group'
//
// Never here: panoramaApiKey and clusterTokens (@secure). Set the Key Vault secrets out of band
// (az keyvault secret set), or pass them on the command line from a secret store.
