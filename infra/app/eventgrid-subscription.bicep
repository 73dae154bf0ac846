// BlobCreated events under uploads/ -> the blob extension webhook of the function app.
//
// The webhook URL carries the host's blobs_extension system key, which exists only once the app's code (with its
// Event Grid blob trigger) has been deployed and the host has started. So, like the official Flex Consumption
// Event Grid blob sample, this is applied after deployment: infra/hooks/postdeploy.* deploys this file on its own and
// then sets IMAGEJOBS_ENABLE_UPLOAD_SUBSCRIPTION=true so later `azd provision` runs keep it (main.bicep includes it
// when enableUploadSubscription is true).
param systemTopicName string
param functionAppName string

@description('The blob-triggered function (Host.Functions.<name>); must match [Function("<name>")] in the app.')
param functionName string

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' existing = {
  name: systemTopicName
}

resource app 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

var blobsExtensionKey = listKeys('${app.id}/host/default', '2024-04-01').systemKeys.blobs_extension

resource uploads 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = {
  parent: topic
  name: 'uploads-to-${toLower(functionName)}'
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${app.properties.defaultHostName}/runtime/webhooks/blobs?functionName=Host.Functions.${functionName}&code=${blobsExtensionKey}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
      ]
      // Must match the container of the app's BlobTrigger path ("uploads/{name}").
      subjectBeginsWith: '/blobServices/default/containers/uploads/'
    }
    eventDeliverySchema: 'EventGridSchema'
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

output name string = uploads.name
