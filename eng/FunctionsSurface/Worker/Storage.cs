// Mirrors Microsoft.Azure.Functions.Worker.Extensions.Storage.Queues 5.5.5 and .Storage.Blobs 6.8.2.
// Source: Azure/azure-functions-dotnet-worker, extensions/Worker.Extensions.Storage.Queues/src/QueueTriggerAttribute.cs,
// QueueOutputAttribute.cs; extensions/Worker.Extensions.Storage.Blobs/src/BlobTriggerAttribute.cs, BlobTriggerSource.cs,
// BlobInputAttribute.cs, BlobOutputAttribute.cs. Declarations only: no behaviour.
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace Microsoft.Azure.Functions.Worker;

public sealed class QueueTriggerAttribute : TriggerBindingAttribute
{
    public QueueTriggerAttribute(string queueName) => throw null!;

    public string QueueName => throw null!;

    public string? Connection { get; set; }
}

public sealed class QueueOutputAttribute : OutputBindingAttribute
{
    public QueueOutputAttribute(string queueName) => throw null!;

    public string QueueName => throw null!;

    public string? Connection { get; set; }
}

public enum BlobTriggerSource
{
    LogsAndContainerScan,
    EventGrid,
}

public sealed class BlobTriggerAttribute : TriggerBindingAttribute
{
    public BlobTriggerAttribute(string blobPath) => throw null!;

    public string BlobPath => throw null!;

    // Flex Consumption supports only BlobTriggerSource.EventGrid.
    public BlobTriggerSource Source { get; set; }

    public string? Connection { get; set; }
}

public sealed class BlobInputAttribute : InputBindingAttribute
{
    public BlobInputAttribute(string blobPath) => throw null!;

    public string BlobPath => throw null!;

    public bool IsBatched { get; set; }

    public string? Connection { get; set; }
}

public sealed class BlobOutputAttribute : OutputBindingAttribute
{
    public BlobOutputAttribute(string blobPath) => throw null!;

    public string BlobPath => throw null!;

    public string? Connection { get; set; }
}
