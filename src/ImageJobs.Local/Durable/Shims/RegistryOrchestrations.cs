using DurableTask.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Shims;

namespace ImageJobs.Local.Durable.Shims;

/// <summary>
/// The orchestrations <see cref="TaskHubWorker"/> runs, taken from the worker's registry (the one registration list both
/// hosts use) and wrapped by <see cref="DurableTaskShimFactory"/>: a new orchestrator for every episode, as the
/// Microsoft.DurableTask worker creates one. The framework asks for names only, so <see cref="Add"/> is not used.
/// </summary>
internal sealed class RegistryOrchestrations(IDurableTaskFactory factory, DurableTaskShimFactory shims, IServiceProvider services)
    : INameVersionObjectManager<TaskOrchestration>
{
    public void Add(ObjectCreator<TaskOrchestration> creator) =>
        throw new NotSupportedException("Orchestrations come from the Microsoft.DurableTask registry (AddTasks).");

    // Null for a name the registry does not know: the framework then keeps the message and retries it
    // (TypeMissingException), as it does for a deployment that lacks an orchestration.
    public TaskOrchestration? GetObject(string name, string? version) =>
        factory.TryCreateOrchestrator(new TaskName(name), services, out var orchestrator)
            ? new ShimmedOrchestration(new TaskName(name), orchestrator, shims)
            : null;
}
