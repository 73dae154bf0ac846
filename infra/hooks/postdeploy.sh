#!/bin/sh
# azd postdeploy hook (posix): creates the Event Grid subscription uploads/ -> the app's blob trigger.
# Why after deploy: its webhook URL carries the host's blobs_extension key, which exists only once the deployed code
# (with its Event Grid blob trigger) has started; this is what the official Flex Consumption Event Grid blob sample
# does too. The subscription itself is infra/app/eventgrid-subscription.bicep; later `azd provision` runs keep it
# because this hook sets IMAGEJOBS_ENABLE_UPLOAD_SUBSCRIPTION=true. Idempotent.
set -eu

root="$(cd "$(dirname "$0")/../.." && pwd)"
function_name="${IMAGEJOBS_UPLOAD_FUNCTION_NAME:-OnUpload}"

echo "postdeploy: waiting for the blobs_extension key of $AZURE_FUNCTION_APP_NAME..."
attempt=0
until key="$(az functionapp keys list -g "$AZURE_RESOURCE_GROUP" -n "$AZURE_FUNCTION_APP_NAME" \
    --query systemKeys.blobs_extension -o tsv 2>/dev/null)" && [ -n "$key" ]; do
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 12 ]; then
    echo "postdeploy: no blobs_extension key after 2 minutes; is a BlobTrigger with Source = EventGrid deployed?" >&2
    exit 1
  fi
  sleep 10
done

az deployment group create \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --name eventgrid-uploads \
  --template-file "$root/infra/app/eventgrid-subscription.bicep" \
  --parameters systemTopicName="$AZURE_EVENTGRID_SYSTEM_TOPIC_NAME" functionAppName="$AZURE_FUNCTION_APP_NAME" \
               functionName="$function_name" \
  --output none

azd env set IMAGEJOBS_ENABLE_UPLOAD_SUBSCRIPTION true
echo "postdeploy: uploads/ now triggers Host.Functions.$function_name."
