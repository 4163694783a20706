import { tokenSecretName } from 'types.bicep'

metadata name = 'Key Vault'
metadata description = 'Key Vault (RBAC mode, purge protection, recoverable by name) for the Panorama API key or password and optional Kubernetes service-account tokens. Secret values arrive only as @secure() parameters or are set out of band; nothing secret is ever an output.'

@description('Required. Name of the Key Vault (3-24 letters, digits and "-").')
@minLength(3)
@maxLength(24)
param name string

@description('Required. Azure region.')
param location string

@description('Optional. Tags for the vault.')
param tags object = {}

@description('Optional. Name of the secret that holds the Panorama API key.')
param panoramaApiKeySecretName string = 'panorama-api-key'

@description('Optional. The Panorama API key. Empty (the default): the secret is not written by this deployment; set it out of band (az keyvault secret set), so that re-deploying never overwrites a rotated key.')
@secure()
param panoramaApiKey string = ''

@description('Optional. Name of the secret that holds the Panorama password (used with PANORAMA_USERNAME instead of an API key).')
param panoramaPasswordSecretName string = 'panorama-password'

@description('Optional. The Panorama password. Empty (the default): not written by this deployment; the postprovision hook or az keyvault secret set writes it.')
@secure()
param panoramaPassword string = ''

@description('Optional. Kubernetes service-account tokens, keyed by the tokenSetting name of their cluster (e.g. {AKS_PROD_1_TOKEN: \'...\'}); each is stored as the secret tokenSecretName(key). Empty (the default): set the secrets out of band.')
@secure()
param clusterTokens object = {}

@description('Optional. "default" creates the vault (or updates it); "recover" recovers a soft-deleted vault of the same name, with its secrets. Purge protection keeps a deleted vault\'s name taken for softDeleteRetentionInDays, so provisioning again after "azd down" must recover it: scripts/azd-preprovision.sh sets KEY_VAULT_CREATE_MODE=recover when it finds one.')
@allowed([
  'default'
  'recover'
])
param createMode string = 'default'

@description('Optional. Days a deleted vault or secret can be recovered.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    createMode: createMode
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enablePurgeProtection: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource panoramaApiKeySecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (!empty(panoramaApiKey)) {
  parent: vault
  name: panoramaApiKeySecretName
  properties: {
    value: panoramaApiKey
    contentType: 'text/plain'
  }
}

resource panoramaPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (!empty(panoramaPassword)) {
  parent: vault
  name: panoramaPasswordSecretName
  properties: {
    value: panoramaPassword
    contentType: 'text/plain'
  }
}

resource clusterTokenSecrets 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = [
  for token in items(clusterTokens): {
    parent: vault
    name: tokenSecretName(token.key)
    properties: {
      value: token.value
      contentType: 'text/plain'
    }
  }
]

@description('Name of the Key Vault.')
output name string = vault.name

@description('Resource ID of the Key Vault.')
output resourceId string = vault.id

@description('Vault URI, e.g. https://<name>.vault.azure.net/.')
output vaultUri string = vault.properties.vaultUri
