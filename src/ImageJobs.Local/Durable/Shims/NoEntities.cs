using DurableTask.Core;
using DurableTask.Core.Entities;

namespace ImageJobs.Local.Durable.Shims;

/// <summary>The entities <see cref="TaskHubWorker"/> runs: none (the workflow has none).</summary>
internal sealed class NoEntities : INameVersionObjectManager<TaskEntity>
{
    public void Add(ObjectCreator<TaskEntity> creator) => throw new NotSupportedException("The workflow registers no entities.");

    public TaskEntity? GetObject(string name, string? version) => null;
}
