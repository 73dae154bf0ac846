// Event Grid system topic on the storage account: the source of BlobCreated events for the upload trigger
// (Flex Consumption supports only the Event Grid blob trigger, BlobTriggerSource.EventGrid).
// The subscription that delivers to the app is eventgrid-subscription.bicep (it needs the deployed app's key).
param name string
param location string = resourceGroup().location
param tags object = {}
param storageAccountName string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    source: storage.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

output name string = topic.name
