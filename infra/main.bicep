// ImageJobs on Azure Functions Flex Consumption (azd). Shape of the official Flex Consumption azd quickstarts:
// subscription scope, one resource group, modules in app/, a user-assigned identity for every data-plane call,
// no shared keys, guid()-named role assignments, UPPER_SNAKE outputs for azd.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; used to name the resource group and to derive a unique resource token.')
param environmentName string

@minLength(1)
@description('Primary location for all resources (must offer Flex Consumption).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the user or service principal running azd; gets data-plane roles for local runs. Empty: none.')
param principalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
])
@description('Kind of principalId.')
param principalType string = 'User'

@secure()
@minLength(1)
@description('DashScope API key; stored in Key Vault, reaches the app as a Key Vault reference.')
param dashScopeApiKey string

@secure()
@minLength(32)
@description('Secret used to sign completion webhooks; stored in Key Vault, reaches the app as a Key Vault reference.')
param webhookSecret string

@allowed([
  'Beijing'
  'Singapore'
])
@description('DashScope region the app calls.')
param dashScopeRegion string = 'Beijing'

@description('Name of the blob-triggered function that starts a job for each upload (Host.Functions.<name>).')
param uploadFunctionName string = 'OnUpload'

@description('Create the Event Grid subscription for uploads. Needs the deployed app (its blobs_extension key exists only then): infra/hooks/postdeploy creates it and sets this to true for later provisions.')
param enableUploadSubscription bool = false

@allowed([
  'Auto'
  'SasUrl'
  'DataUri'
  'TemporaryUpload'
])
@description('How blob: image inputs reach DashScope (ImageJobs:InputMode): Auto = a short-lived read SAS URL when the storage is publicly reachable, else an inline data URI, or an upload to DashScope temporary storage (oss://) where a data URI cannot serve.')
param inputMode string = 'Auto'

@description('The largest result image the app stores, in bytes (ImageJobs:MaxResultImageBytes). Default 50 MB.')
param maxResultImageBytes int = 52428800

@description('Prompt for uploads whose blob metadata has none (ImageJobs:Uploads:DefaultPrompt). Empty: such uploads are rejected.')
param uploadDefaultPrompt string = ''

@description('Optional name overrides (empty: derived from the resource token).')
param resourceGroupName string = ''
param functionAppName string = ''
param storageAccountName string = ''
param keyVaultName string = ''
param applicationInsightsName string = ''
param logAnalyticsName string = ''
param identityName string = ''

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var appName = !empty(functionAppName) ? functionAppName : 'func-api-${resourceToken}'
var deploymentContainerName = 'app-package-${take(appName, 32)}-${take(resourceToken, 7)}'
var uploadsContainerName = 'uploads'
var resultsContainerName = 'results'
var stateContainerName = 'imagejobs-state'
var jobsQueueName = 'image-jobs'
var completionQueueName = 'image-jobs-completed'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: !empty(identityName) ? identityName : 'id-api-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: !empty(storageAccountName) ? storageAccountName : 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    uploadsContainerName: uploadsContainerName
    resultsContainerName: resultsContainerName
    stateContainerName: stateContainerName
    jobsQueueName: jobsQueueName
    completionQueueName: completionQueueName
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    applicationInsightsName: !empty(applicationInsightsName) ? applicationInsightsName : 'appi-${resourceToken}'
    logAnalyticsName: !empty(logAnalyticsName) ? logAnalyticsName : 'log-${resourceToken}'
    location: location
    tags: tags
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: !empty(keyVaultName) ? keyVaultName : 'kv-${resourceToken}'
    location: location
    tags: tags
    dashScopeApiKey: dashScopeApiKey
    webhookSecret: webhookSecret
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: keyVault.outputs.name
    identityPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  dependsOn: [
    rbac
  ]
  params: {
    name: appName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    appSettings: {
      DASHSCOPE_API_KEY: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.dashScopeApiKeySecretUri})'
      IMAGEJOBS_WEBHOOK_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.webhookSecretUri})'
      DashScope__Region: dashScopeRegion
      ImageJobs__CompletionQueue: completionQueueName
      ImageJobs__StateContainer: stateContainerName
      ImageJobs__MaxResultImageBytes: string(maxResultImageBytes)
      ImageJobs__InputMode: inputMode
      ImageJobs__Uploads__DefaultPrompt: uploadDefaultPrompt
    }
  }
}

module eventGrid 'app/eventgrid.bicep' = {
  name: 'eventgrid'
  scope: rg
  params: {
    name: 'evgt-${resourceToken}'
    location: location
    tags: tags
    storageAccountName: storage.outputs.name
  }
}

module uploadSubscription 'app/eventgrid-subscription.bicep' = if (enableUploadSubscription) {
  name: 'eventgrid-uploads'
  scope: rg
  params: {
    systemTopicName: eventGrid.outputs.name
    functionAppName: api.outputs.name
    functionName: uploadFunctionName
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = 'https://${api.outputs.defaultHostName}'
output AZURE_USER_ASSIGNED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_BLOB_ENDPOINT string = storage.outputs.blobEndpoint
output AZURE_STORAGE_QUEUE_ENDPOINT string = storage.outputs.queueEndpoint
output AZURE_STORAGE_TABLE_ENDPOINT string = storage.outputs.tableEndpoint
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_ENDPOINT string = keyVault.outputs.endpoint
output AZURE_EVENTGRID_SYSTEM_TOPIC_NAME string = eventGrid.outputs.name
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString
output DASHSCOPE_REGION string = dashScopeRegion
output IMAGEJOBS_UPLOAD_FUNCTION_NAME string = uploadFunctionName
output IMAGEJOBS_UPLOADS_CONTAINER string = uploadsContainerName
output IMAGEJOBS_RESULTS_CONTAINER string = resultsContainerName
output IMAGEJOBS_STATE_CONTAINER string = stateContainerName
output IMAGEJOBS_JOBS_QUEUE string = jobsQueueName
output IMAGEJOBS_COMPLETION_QUEUE string = completionQueueName
output IMAGEJOBS_INPUT_MODE string = inputMode
output IMAGEJOBS_MAX_RESULT_IMAGE_BYTES int = maxResultImageBytes
