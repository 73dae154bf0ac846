using ImageJobs.Workflow.Activities;
using ImageJobs.Workflow.Orchestrations;
using Microsoft.DurableTask;

namespace ImageJobs.Workflow.Hosting;

/// <summary>One orchestrator or activity of the workflow: its task name (the class name) and its class.</summary>
/// <param name="Name">The task name, which is also the Azure Functions function name.</param>
/// <param name="Type">The <see cref="TaskOrchestrator{TInput, TOutput}"/> or <see cref="TaskActivity{TInput, TOutput}"/> class.</param>
public sealed record WorkflowFunction(string Name, Type Type);

/// <summary>
/// Every orchestrator and activity of the workflow, in the one list both hosts register from: the local host through
/// <see cref="AddImageJobTasks"/>, the Azure Functions app through one trigger function per entry (its metadata test
/// checks the built <c>functions.metadata</c> against this list, in both directions).
/// </summary>
public static class WorkflowCatalog
{
    /// <summary>The orchestrators.</summary>
    public static IReadOnlyList<WorkflowFunction> Orchestrations { get; } =
    [
        new(nameof(ImageJobOrchestrator), typeof(ImageJobOrchestrator)),
    ];

    /// <summary>The activities.</summary>
    public static IReadOnlyList<WorkflowFunction> Activities { get; } =
    [
        new(nameof(SubmitTaskActivity), typeof(SubmitTaskActivity)),
        new(nameof(GetTaskActivity), typeof(GetTaskActivity)),
        new(nameof(CancelTaskActivity), typeof(CancelTaskActivity)),
        new(nameof(DownloadImageActivity), typeof(DownloadImageActivity)),
        new(nameof(WriteManifestActivity), typeof(WriteManifestActivity)),
        new(nameof(SendWebhookActivity), typeof(SendWebhookActivity)),
        new(nameof(SendCompletionQueueMessageActivity), typeof(SendCompletionQueueMessageActivity)),
    ];

    /// <summary>Registers every orchestrator and activity of the workflow (activities are built from the worker's services).</summary>
    /// <param name="registry">The worker's task registry.</param>
    public static DurableTaskRegistry AddImageJobTasks(this DurableTaskRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        foreach (var orchestrator in Orchestrations)
        {
            registry.AddOrchestrator(orchestrator.Name, orchestrator.Type);
        }

        foreach (var activity in Activities)
        {
            registry.AddActivity(activity.Name, activity.Type);
        }

        return registry;
    }
}
