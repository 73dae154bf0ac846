using DurableTask.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Worker.Shims;

namespace ImageJobs.Local.Durable.Shims;

/// <summary>
/// An orchestrator from the registry, wrapped by <see cref="DurableTaskShimFactory"/> once the episode's parent is known.
/// The framework creates the orchestration before it looks at the history, so the worker's dispatch middleware calls
/// <see cref="Bind"/> with the history's parent (a sub-orchestration's <c>TaskOrchestrationContext.Parent</c>) before the
/// episode runs.
/// </summary>
internal sealed class ShimmedOrchestration(TaskName name, ITaskOrchestrator orchestrator, DurableTaskShimFactory shims) : TaskOrchestration
{
    private TaskOrchestration? _shim;

    /// <summary>Wraps the orchestrator with its parent (null for a top-level instance). Only the first call counts.</summary>
    public void Bind(ParentInstance? parent) =>
        _shim ??= shims.CreateOrchestration(
            name,
            orchestrator,
            parent is null ? null : new ParentOrchestrationInstance(new TaskName(parent.Name), parent.OrchestrationInstance.InstanceId));

    private TaskOrchestration Shim => _shim ?? throw new InvalidOperationException($"Orchestration {name} ran before the worker bound it to its history.");

    public override Task<string> Execute(OrchestrationContext context, string input) => Shim.Execute(context, input);

    public override string GetStatus() => Shim.GetStatus();

    public override void RaiseEvent(OrchestrationContext context, string name, string input) => Shim.RaiseEvent(context, name, input);
}
