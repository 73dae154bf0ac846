# azd postprovision hook (windows): same as postprovision.sh. Writes local.settings.json so that `func start` talks
# to the provisioned resources with the developer's own Entra ID login; keeps every value it does not set.
# To go back to Azurite: Copy-Item local.settings.sample.json local.settings.json
$ErrorActionPreference = 'Stop'

$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
$target = Join-Path $root 'local.settings.json'
$sourceFile = if (Test-Path $target) { $target } else { Join-Path $root 'local.settings.sample.json' }

$settings = Get-Content -Raw $sourceFile | ConvertFrom-Json -AsHashtable
$settings['IsEncrypted'] = $false
if (-not $settings.ContainsKey('Values')) { $settings['Values'] = @{} }
$values = $settings['Values']

function Set-Value([string] $key, [string] $value) {
    if (-not [string]::IsNullOrEmpty($value)) { $values[$key] = $value }
}

# Identity-based storage (shared keys are disabled on the account): no connection string, endpoints only.
$values.Remove('AzureWebJobsStorage')
Set-Value 'AzureWebJobsStorage__blobServiceUri' $env:AZURE_STORAGE_BLOB_ENDPOINT
Set-Value 'AzureWebJobsStorage__queueServiceUri' $env:AZURE_STORAGE_QUEUE_ENDPOINT
Set-Value 'AzureWebJobsStorage__tableServiceUri' $env:AZURE_STORAGE_TABLE_ENDPOINT
$values['FUNCTIONS_WORKER_RUNTIME'] = 'dotnet-isolated'
Set-Value 'DASHSCOPE_API_KEY' $env:DASHSCOPE_API_KEY
Set-Value 'IMAGEJOBS_WEBHOOK_SECRET' $env:IMAGEJOBS_WEBHOOK_SECRET
Set-Value 'DashScope__Region' $env:DASHSCOPE_REGION
Set-Value 'ImageJobs__CompletionQueue' $env:IMAGEJOBS_COMPLETION_QUEUE
Set-Value 'ImageJobs__StateContainer' $env:IMAGEJOBS_STATE_CONTAINER
Set-Value 'ImageJobs__MaxResultImageBytes' $env:IMAGEJOBS_MAX_RESULT_IMAGE_BYTES
Set-Value 'ImageJobs__InputMode' $env:IMAGEJOBS_INPUT_MODE

($settings | ConvertTo-Json -Depth 5) + "`n" | Set-Content -NoNewline -Encoding utf8 $target
Write-Host "postprovision: wrote $target (storage $($env:AZURE_STORAGE_ACCOUNT_NAME))."
