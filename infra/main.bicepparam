// Parameters for main.bicep. No secrets here: this file is committed.
// Values come from environment variables (azd passes its environment, e.g. `azd env set PANORAMA_URL …`;
// with az, export them first). See docs/deploy.md for every parameter.
using 'main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME')

param panoramaUrl = readEnvironmentVariable('PANORAMA_URL')

// JSON array of clusters, e.g.
// [{"name":"aks-prod-1","subscriptionId":"<sub>","resourceGroup":"rg-aks","nodeResourceGroup":"MC_rg-aks_aks-prod-1_westeurope","deviceGroups":["dg-spoke-1"]}]
param clusters = json(readEnvironmentVariable('CLUSTERS', '[]'))

// Log in with a username and password (the password goes to Key Vault) instead of an API key.
param panoramaUsername = readEnvironmentVariable('PANORAMA_USERNAME', '')

// azd sets AZURE_PRINCIPAL_ID to the signed-in user or service principal: Key Vault Secrets Officer,
// so that scripts/azd-postprovision.sh can write the Panorama secret.
param deployerPrincipalId = readEnvironmentVariable('AZURE_PRINCIPAL_ID', '')

// "recover" after `azd down` (purge protection keeps the vault name): set by scripts/azd-preprovision.sh.
param keyVaultCreateMode = readEnvironmentVariable('KEY_VAULT_CREATE_MODE', 'default')

// Subscriptions whose clusters sync on the timer only (no Event Grid there): comma-separated IDs.
param timerOnlySubscriptions = filter(split(readEnvironmentVariable('TIMER_ONLY_SUBSCRIPTIONS', ''), ','), id => !empty(id))

param alertEmail = readEnvironmentVariable('ALERT_EMAIL', '')

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
// param tagTimeoutMinutes = 0
// param additionalAppSettings = { HTTPS_PROXY: 'http://proxy.example.net:3128', NO_PROXY: '.internal.example.net', SYNC_POLICY: 'upsert-only' }
// param instanceMemoryMB = 2048
// param maximumInstanceCount = 100
// param vnetIntegrationSubnetId = '/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>'
// param vaultOperatorPrincipalId = '<object id of the team that rotates the Panorama key>'
// param vaultOperatorPrincipalType = 'Group'
//
// param existingSystemTopics = { '<other subscription id>': { name: '<topic>', resourceGroup: '<rg>' } }
// param actionGroupResourceId = '<resource id of an action group>'
//
// Never here: panoramaApiKey, panoramaPassword and clusterTokens (@secure). azd's postprovision hook
// asks for the Panorama secret and writes it to Key Vault; with az, see docs/deploy.md ("Secrets").
