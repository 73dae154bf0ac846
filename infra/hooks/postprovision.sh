#!/bin/sh
# azd postprovision hook (posix): writes local.settings.json so that `func start` on this machine talks to the
# resources azd just provisioned, with the developer's own Entra ID login (rbac.bicep grants AZURE_PRINCIPAL_ID the
# same data roles as the app). Starts from the existing local.settings.json, else local.settings.sample.json, and only
# sets the keys below; other values are kept. azd exports the environment (outputs included) to hooks.
# To go back to Azurite: cp local.settings.sample.json local.settings.json
set -eu

root="$(cd "$(dirname "$0")/../.." && pwd)"
target="$root/local.settings.json"
source_file="$root/local.settings.sample.json"
if [ -f "$target" ]; then source_file="$target"; fi

if ! command -v node >/dev/null 2>&1; then
  echo "postprovision: node is required to write local.settings.json (it is also what runs Azurite)." >&2
  exit 1
fi

SOURCE_FILE="$source_file" TARGET_FILE="$target" node - <<'JS'
const fs = require("fs");
const env = process.env;
const settings = JSON.parse(fs.readFileSync(env.SOURCE_FILE, "utf8"));
settings.IsEncrypted = false;
const values = settings.Values = settings.Values || {};
// Identity-based storage (shared keys are disabled on the account): no connection string, endpoints only.
delete values.AzureWebJobsStorage;
const set = (key, value) => { if (value !== undefined && value !== "") values[key] = value; };
set("AzureWebJobsStorage__blobServiceUri", env.AZURE_STORAGE_BLOB_ENDPOINT);
set("AzureWebJobsStorage__queueServiceUri", env.AZURE_STORAGE_QUEUE_ENDPOINT);
set("AzureWebJobsStorage__tableServiceUri", env.AZURE_STORAGE_TABLE_ENDPOINT);
values.FUNCTIONS_WORKER_RUNTIME = "dotnet-isolated";
set("DASHSCOPE_API_KEY", env.DASHSCOPE_API_KEY);
set("IMAGEJOBS_WEBHOOK_SECRET", env.IMAGEJOBS_WEBHOOK_SECRET);
set("DashScope__Region", env.DASHSCOPE_REGION);
set("ImageJobs__CompletionQueue", env.IMAGEJOBS_COMPLETION_QUEUE);
set("ImageJobs__StateContainer", env.IMAGEJOBS_STATE_CONTAINER);
set("ImageJobs__MaxResultImageBytes", env.IMAGEJOBS_MAX_RESULT_IMAGE_BYTES);
set("ImageJobs__InputMode", env.IMAGEJOBS_INPUT_MODE);
fs.writeFileSync(env.TARGET_FILE, JSON.stringify(settings, null, 2) + "\n");
console.log(`postprovision: wrote ${env.TARGET_FILE} (storage ${env.AZURE_STORAGE_ACCOUNT_NAME || "?"}).`);
JS
