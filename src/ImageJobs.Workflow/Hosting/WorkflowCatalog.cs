using ImageJobs.Workflow.Pipeline;

namespace ImageJobs.Workflow.Hosting;

/// <summary>One orchestration or activity of the workflow: the name the hosts register it under and its class.</summary>
/// <param name="Name">The function name (also the Azure Functions function name).</param>
/// <param name="Type">The class implementing <c>IOrchestration&lt;,&gt;</c> or <c>IActivity&lt;,&gt;</c>.</param>
public sealed record WorkflowFunction(string Name, Type Type);

/// <summary>
/// Every orchestration and activity of the workflow, in one list both hosts register from: the local engine
/// (<c>ImageJobs.Local</c>) and the Azure Functions app, whose wiring test checks it has one function per entry.
/// </summary>
public static class WorkflowCatalog
{
    /// <summary>The orchestrations.</summary>
    public static IReadOnlyList<WorkflowFunction> Orchestrations { get; } =
    [
        new(ImageJobOrchestration.Name, typeof(ImageJobOrchestration)),
    ];

    /// <summary>The activities.</summary>
    public static IReadOnlyList<WorkflowFunction> Activities { get; } =
    [
        new(SubmitTaskActivity.Name, typeof(SubmitTaskActivity)),
        new(GetTaskActivity.Name, typeof(GetTaskActivity)),
        new(CancelTaskActivity.Name, typeof(CancelTaskActivity)),
        new(DownloadImageActivity.Name, typeof(DownloadImageActivity)),
        new(WriteManifestActivity.Name, typeof(WriteManifestActivity)),
        new(SendWebhookActivity.Name, typeof(SendWebhookActivity)),
        new(SendCompletionQueueMessageActivity.Name, typeof(SendCompletionQueueMessageActivity)),
    ];
}
