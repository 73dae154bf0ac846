using ImageJobs.Workflow.Activities;
using ImageJobs.Workflow.Delivery;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Orchestrations;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;

namespace ImageJobs.Functions.Triggers;

/// <summary>
/// One function per orchestrator and activity of <c>WorkflowCatalog</c>, named after its class (the metadata test checks
/// both directions). Each is one line that runs the workflow's own class: the orchestrator on the trigger's
/// <see cref="TaskOrchestrationContext"/>, each activity built from the app's services.
/// </summary>
public static class WorkflowFunctions
{
    /// <summary><see cref="ImageJobOrchestrator"/>.</summary>
    [Function(nameof(ImageJobOrchestrator))]
    public static Task<JobResult> RunImageJobOrchestrator([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new ImageJobOrchestrator().RunAsync(context, (context ?? throw new ArgumentNullException(nameof(context))).GetInput<ImageJob>()!);

    /// <summary><see cref="SubmitTaskActivity"/>.</summary>
    [Function(nameof(SubmitTaskActivity))]
    public static Task<SubmitOutcome> SubmitTask([ActivityTrigger] SubmitRequest input, FunctionContext function) =>
        Run<SubmitTaskActivity, SubmitRequest, SubmitOutcome>(input, function);

    /// <summary><see cref="GetTaskActivity"/>.</summary>
    [Function(nameof(GetTaskActivity))]
    public static Task<TaskSnapshot> GetTask([ActivityTrigger] TaskQuery input, FunctionContext function) =>
        Run<GetTaskActivity, TaskQuery, TaskSnapshot>(input, function);

    /// <summary><see cref="CancelTaskActivity"/>.</summary>
    [Function(nameof(CancelTaskActivity))]
    public static Task<bool> CancelTask([ActivityTrigger] TaskQuery input, FunctionContext function) =>
        Run<CancelTaskActivity, TaskQuery, bool>(input, function);

    /// <summary><see cref="DownloadImageActivity"/>.</summary>
    [Function(nameof(DownloadImageActivity))]
    public static Task<JobImage> DownloadImage([ActivityTrigger] DownloadRequest input, FunctionContext function) =>
        Run<DownloadImageActivity, DownloadRequest, JobImage>(input, function);

    /// <summary><see cref="WriteManifestActivity"/>.</summary>
    [Function(nameof(WriteManifestActivity))]
    public static Task<bool> WriteManifest([ActivityTrigger] CompletionDelivery input, FunctionContext function) =>
        Run<WriteManifestActivity, CompletionDelivery, bool>(input, function);

    /// <summary><see cref="SendWebhookActivity"/>.</summary>
    [Function(nameof(SendWebhookActivity))]
    public static Task<bool> SendWebhook([ActivityTrigger] CompletionDelivery input, FunctionContext function) =>
        Run<SendWebhookActivity, CompletionDelivery, bool>(input, function);

    /// <summary><see cref="SendCompletionQueueMessageActivity"/>.</summary>
    [Function(nameof(SendCompletionQueueMessageActivity))]
    public static Task<bool> SendCompletionQueueMessage([ActivityTrigger] CompletionDelivery input, FunctionContext function) =>
        Run<SendCompletionQueueMessageActivity, CompletionDelivery, bool>(input, function);

    private static Task<TOutput> Run<TActivity, TInput, TOutput>(TInput input, FunctionContext function)
        where TActivity : TaskActivity<TInput, TOutput>
    {
        ArgumentNullException.ThrowIfNull(function);
        var activity = ActivatorUtilities.GetServiceOrCreateInstance<TActivity>(function.InstanceServices);
        return activity.RunAsync(new FunctionActivityContext(typeof(TActivity).Name, function), input);
    }

    // What the Durable source generator gives a class-based activity: its name and the orchestration's instance id
    // (the activity trigger's "instanceId" binding data).
    private sealed class FunctionActivityContext(string name, FunctionContext function) : TaskActivityContext
    {
        public override TaskName Name { get; } = name;

        public override string InstanceId { get; } =
            function.BindingContext.BindingData.TryGetValue("instanceId", out var id) ? id?.ToString() ?? string.Empty : string.Empty;
    }
}
