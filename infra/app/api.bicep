// The function app: Flex Consumption (FC1), .NET 10 isolated worker, user-assigned identity for everything.
// FUNCTIONS_WORKER_RUNTIME is deliberately absent: on Flex the runtime comes from functionAppConfig.runtime (as in the
// official quickstart, which sets no FUNCTIONS_WORKER_RUNTIME either).
param name string
param planName string
param location string = resourceGroup().location
param tags object = {}
param identityId string
param identityClientId string
param storageAccountName string
param deploymentContainerName string
param applicationInsightsName string

@description('The app\'s own settings (ImageJobs__*, DashScope__*, Key Vault references); merged with the host settings below.')
param appSettings object = {}

param instanceMemoryMB int = 2048
param maximumInstanceCount int = 100

@description('Always-ready instances for the durable group (orchestrators, activities, entities): keeps polling timers prompt.')
param durableAlwaysReadyInstances int = 1

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
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

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references (DASHSCOPE_API_KEY, IMAGEJOBS_WEBHOOK_SECRET) resolve with this identity.
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        alwaysReady: [
          {
            name: 'durable'
            instanceCount: durableAlwaysReadyInstances
          }
        ]
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
}

// Identity-based AzureWebJobsStorage: the host, the queue/blob triggers (Connection = "AzureWebJobsStorage") and
// Durable Task all use it. Durable on the Azure Storage backend needs the blob, queue and table endpoints.
var hostSettings = {
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // DefaultAzureCredential in app code picks the user-assigned identity.
  AZURE_CLIENT_ID: identityClientId
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'appsettings'
  properties: union(appSettings, hostSettings)
}

output id string = app.id
output name string = app.name
output defaultHostName string = app.properties.defaultHostName
