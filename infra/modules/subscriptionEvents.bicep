targetScope = 'subscription'

metadata name = 'Events of another monitored subscription'
metadata description = 'For a subscription with monitored clusters other than the deployment\'s own: its Microsoft.Resources.Subscriptions system topic (created in a resource group of that subscription, or an existing one) and, in phase two, the event subscription to onResourceEvent of the function app in the deployment subscription.'

@description('Required. Resource group to create in this subscription for the system topic (unused when existingSystemTopicName is set).')
param resourceGroupName string

@description('Required. Azure region of that resource group.')
param location string

@description('Optional. Tags for the resource group and the topic.')
param tags object = {}

@description('Required. Name of the system topic to create (unused when existingSystemTopicName is set).')
param systemTopicName string

@description('Optional. The subscription\'s existing Microsoft.Resources.Subscriptions system topic (only one may exist). Empty: create one.')
param existingSystemTopicName string = ''

@description('Conditional. Resource group of existingSystemTopicName. Required when existingSystemTopicName is set.')
param existingSystemTopicResourceGroupName string = ''

@description('Optional. Second phase: create the event subscription (the function must exist).')
param deployEventSubscription bool = false

@description('Required. Name of the function app.')
param functionAppName string

@description('Required. Resource group of the function app.')
param functionAppResourceGroupName string

@description('Required. Subscription of the function app.')
param functionAppSubscriptionId string

var createTopic = empty(existingSystemTopicName)
var topicName = createTopic ? systemTopicName : existingSystemTopicName
var topicResourceGroupName = createTopic ? resourceGroupName : existingSystemTopicResourceGroupName

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = if (createTopic) {
  name: resourceGroupName
  location: location
  tags: tags
}

module topic 'systemTopic.bicep' = if (createTopic) {
  scope: rg
  params: {
    name: systemTopicName
    tags: tags
  }
}

module eventSubscription 'eventSubscription.bicep' = if (deployEventSubscription) {
  scope: resourceGroup(topicResourceGroupName)
  params: {
    systemTopicName: topicName
    functionAppName: functionAppName
    functionAppResourceGroupName: functionAppResourceGroupName
    functionAppSubscriptionId: functionAppSubscriptionId
  }
  dependsOn: [
    topic
  ]
}

@description('Name of the system topic the event subscription uses.')
output systemTopicName string = topicName
