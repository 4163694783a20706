metadata name = 'Event Grid subscription'
metadata description = 'Routes ARM write/delete successes of AKS clusters and load balancers to the onResourceEvent function. Second phase: the function must exist (code deployed and indexed) before Event Grid accepts it as a destination.'

@description('Required. Name of the Microsoft.Resources.Subscriptions system topic (in this deployment\'s resource group).')
param systemTopicName string

@description('Required. Name of the function app.')
param functionAppName string

@description('Required. Resource group of the function app.')
param functionAppResourceGroupName string

@description('Optional. Subscription of the function app. Default: this deployment\'s subscription (another one when the topic watches a second monitored subscription).')
param functionAppSubscriptionId string = subscription().subscriptionId

@description('Optional. Name of the Event Grid trigger function.')
param functionName string = 'onResourceEvent'

@description('Optional. Name of the event subscription.')
@minLength(3)
@maxLength(64)
param name string = 'aks-panorama-sync'

@description('Optional. Delivery attempts before an event is dropped (the reconcile timer covers dropped events).')
@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 30

@description('Optional. Minutes an undelivered event is retried.')
@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource eventSubscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: topic
  name: name
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: resourceId(
          functionAppSubscriptionId,
          functionAppResourceGroupName,
          'Microsoft.Web/sites/functions',
          functionAppName,
          functionName
        )
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    // Only successful writes and deletes: action events (such as our own
    // listClusterUserCredential calls) are never delivered, so no feedback loop.
    filter: {
      includedEventTypes: [
        'Microsoft.Resources.ResourceWriteSuccess'
        'Microsoft.Resources.ResourceDeleteSuccess'
      ]
      advancedFilters: [
        {
          operatorType: 'StringIn'
          key: 'data.operationName'
          values: [
            'Microsoft.ContainerService/managedClusters/write'
            'Microsoft.ContainerService/managedClusters/delete'
            'Microsoft.Network/loadBalancers/write'
            'Microsoft.Network/loadBalancers/delete'
          ]
        }
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: maxDeliveryAttempts
      eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
    }
  }
}

@description('Name of the event subscription.')
output name string = eventSubscription.name
