# azd postdeploy hook (windows): same as postdeploy.sh. Creates the Event Grid subscription uploads/ -> the app's
# blob trigger once the deployed host has its blobs_extension key; keeps it declared for later provisions. Idempotent.
$ErrorActionPreference = 'Stop'

$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
$functionName = if ($env:IMAGEJOBS_UPLOAD_FUNCTION_NAME) { $env:IMAGEJOBS_UPLOAD_FUNCTION_NAME } else { 'OnUpload' }

Write-Host "postdeploy: waiting for the blobs_extension key of $($env:AZURE_FUNCTION_APP_NAME)..."
$key = ''
for ($attempt = 1; $attempt -le 12 -and [string]::IsNullOrEmpty($key); $attempt++) {
    $key = az functionapp keys list -g $env:AZURE_RESOURCE_GROUP -n $env:AZURE_FUNCTION_APP_NAME `
        --query systemKeys.blobs_extension -o tsv 2>$null
    if ([string]::IsNullOrEmpty($key)) { Start-Sleep -Seconds 10 }
}
if ([string]::IsNullOrEmpty($key)) {
    throw 'postdeploy: no blobs_extension key after 2 minutes; is a BlobTrigger with Source = EventGrid deployed?'
}

az deployment group create `
    --resource-group $env:AZURE_RESOURCE_GROUP `
    --name eventgrid-uploads `
    --template-file (Join-Path $root 'infra/app/eventgrid-subscription.bicep') `
    --parameters systemTopicName=$($env:AZURE_EVENTGRID_SYSTEM_TOPIC_NAME) functionAppName=$($env:AZURE_FUNCTION_APP_NAME) `
                 functionName=$functionName `
    --output none
if ($LASTEXITCODE -ne 0) { throw 'postdeploy: the Event Grid subscription deployment failed.' }

azd env set IMAGEJOBS_ENABLE_UPLOAD_SUBSCRIPTION true
Write-Host "postdeploy: uploads/ now triggers Host.Functions.$functionName."
