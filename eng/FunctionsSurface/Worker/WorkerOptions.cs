// Mirrors Microsoft.Azure.Functions.Worker.Core (dependency of Microsoft.Azure.Functions.Worker 2.52.0).
// Source: Azure/azure-functions-dotnet-worker, src/DotNetWorker.Core/WorkerOptions.cs. The Durable extension's
// ObjectConverterShim makes WorkerOptions.Serializer the DataConverter of orchestration inputs, outputs, activity
// bindings and custom status (azure-functions-durable-extension, src/Worker.Extensions.DurableTask/
// DurableTaskExtensionStartup.cs). Subset: only Serializer is mirrored. Declarations only: no behaviour.
using Azure.Core.Serialization;

namespace Microsoft.Azure.Functions.Worker;

public class WorkerOptions
{
    public ObjectSerializer? Serializer { get; set; }
}
