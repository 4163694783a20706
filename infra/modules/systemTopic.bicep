metadata name = 'Event Grid system topic'
metadata description = 'The subscription\'s Microsoft.Resources.Subscriptions system topic. Azure allows one per subscription: deploy this only when the subscription has none (otherwise pass its name to main.bicep as existingSystemTopicName).'

@description('Required. Name of the system topic.')
param name string

@description('Optional. Tags for the topic.')
param tags object = {}

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: name
  #disable-next-line no-hardcoded-location // A subscription-scope system topic is always global.
  location: 'global'
  tags: tags
  properties: {
    source: subscription().id
    topicType: 'Microsoft.Resources.Subscriptions'
  }
}

@description('Name of the system topic.')
output name string = topic.name
