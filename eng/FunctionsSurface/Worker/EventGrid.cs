// Mirrors Microsoft.Azure.Functions.Worker.Extensions.EventGrid 3.6.0.
// Source: Azure/azure-functions-dotnet-worker, extensions/Worker.Extensions.EventGrid/src/EventGridTriggerAttribute.cs.
// Binds Azure.Messaging.CloudEvent or Azure.Messaging.EventGrid.EventGridEvent (real types). Declarations only.
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace Microsoft.Azure.Functions.Worker;

public sealed class EventGridTriggerAttribute : TriggerBindingAttribute
{
    public bool IsBatched { get; set; }
}
