using Microsoft.DurableTask.Client;

namespace ImageJobs.Benchmarks;

/// <summary>Waiting for many instances with one listing of the hub at a time.</summary>
internal static class Instances
{
    private static readonly OrchestrationRuntimeStatus[] s_terminal =
        [OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Failed, OrchestrationRuntimeStatus.Terminated];

    /// <summary>
    /// Lists the instances under <paramref name="prefix"/> that have ended, every 2 s, until <paramref name="expected"/>
    /// have or <paramref name="timeout"/> passes; returns the ended ones with inputs and outputs, by id.
    /// </summary>
    public static async Task<Dictionary<string, OrchestrationMetadata>> WaitAllAsync(
        DurableTaskClient client, string prefix, int expected, TimeSpan timeout, Action<int> progress)
    {
        var deadline = DateTime.UtcNow + timeout;
        var lastProgress = DateTime.MinValue;
        while (true)
        {
            var count = 0;
            await foreach (var _ in client.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = prefix, Statuses = s_terminal, PageSize = 1000 }))
            {
                count++;
            }

            if (DateTime.UtcNow - lastProgress >= TimeSpan.FromSeconds(5))
            {
                lastProgress = DateTime.UtcNow;
                progress(count);
            }

            if (count >= expected || DateTime.UtcNow >= deadline)
            {
                break;
            }

            await Task.Delay(2000);
        }

        // Outputs one instance at a time: a page of them (inputs included, with data-URI images) can exceed gRPC's 4 MB.
        var ids = new List<string>();
        await foreach (var instance in client.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = prefix, Statuses = s_terminal, PageSize = 1000 }))
        {
            ids.Add(instance.InstanceId);
        }

        var ended = new System.Collections.Concurrent.ConcurrentDictionary<string, OrchestrationMetadata>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, ct) =>
        {
            if (await client.GetInstanceAsync(id, getInputsAndOutputs: true, ct) is { } instance)
            {
                ended[id] = instance;
            }
        });

        return new Dictionary<string, OrchestrationMetadata>(ended, StringComparer.Ordinal);
    }
}
