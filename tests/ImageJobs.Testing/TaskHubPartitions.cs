using System.Text;

namespace ImageJobs.Testing;

/// <summary>Where the Azure Storage provider keeps an orchestration instance.</summary>
public static class TaskHubPartitions
{
    /// <summary>
    /// The control queue (partition) of <paramref name="instanceId"/>: FNV-1a of its UTF-8 bytes modulo
    /// <paramref name="partitionCount"/>, as DurableTask.AzureStorage computes it.
    /// </summary>
    public static int Of(string instanceId, int partitionCount)
    {
        ArgumentNullException.ThrowIfNull(instanceId);
        var hash = 2166136261;
        foreach (var b in Encoding.UTF8.GetBytes(instanceId))
        {
            hash = unchecked((hash ^ b) * 16777619);
        }

        return (int)(hash % (uint)partitionCount);
    }
}
