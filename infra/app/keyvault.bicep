// Key Vault in RBAC mode holding the app's two secrets. The app reads them as Key Vault references resolved with its
// user-assigned identity (keyVaultReferenceIdentity in api.bicep, Key Vault Secrets User in rbac.bicep).
// Secret names allow only letters, digits and dashes, so they differ from the app-setting names that point at them.
param name string
param location string = resourceGroup().location
param tags object = {}

@secure()
param dashScopeApiKey string

@secure()
param webhookSecret string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
  }
}

resource dashScopeApiKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'dashscope-api-key'
  properties: {
    value: dashScopeApiKey
    contentType: 'text/plain'
  }
}

resource webhookSecretSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'imagejobs-webhook-secret'
  properties: {
    value: webhookSecret
    contentType: 'text/plain'
  }
}

output name string = vault.name
output endpoint string = vault.properties.vaultUri
// Unversioned URIs: the app follows rotations (references refresh within 24 h, or on restart).
output dashScopeApiKeySecretUri string = dashScopeApiKeySecret.properties.secretUri
output webhookSecretUri string = webhookSecretSecret.properties.secretUri
