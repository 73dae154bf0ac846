using ImageJobs.Functions.Durable;
using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Pipeline;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;

namespace ImageJobs.Functions.Triggers;

/// <summary>
/// One function per orchestration and activity of <c>WorkflowCatalog</c>, under the catalog's names (the wiring test
/// checks both directions). Each one delegates to the workflow's class.
/// </summary>
public static class WorkflowFunctions
{
    /// <summary>The image job orchestration (<see cref="ImageJobOrchestration"/>).</summary>
    [Function(ImageJobOrchestration.Name)]
    public static Task<JobResult> RunImageJob([OrchestrationTrigger] TaskOrchestrationContext context, FunctionContext function) =>
        DurableOrchestrationContext.RunAsync<ImageJobOrchestration, ImageJob, JobResult>(context, function);

    /// <summary><see cref="SubmitTaskActivity"/>.</summary>
    [Function(SubmitTaskActivity.Name)]
    public static Task<SubmitOutcome> SubmitTask([ActivityTrigger] SubmitRequest input, FunctionContext function) =>
        Run<SubmitTaskActivity, SubmitRequest, SubmitOutcome>(input, function);

    /// <summary><see cref="GetTaskActivity"/>.</summary>
    [Function(GetTaskActivity.Name)]
    public static Task<TaskSnapshot> GetTask([ActivityTrigger] TaskQuery input, FunctionContext function) =>
        Run<GetTaskActivity, TaskQuery, TaskSnapshot>(input, function);

    /// <summary><see cref="CancelTaskActivity"/>.</summary>
    [Function(CancelTaskActivity.Name)]
    public static Task<bool> CancelTask([ActivityTrigger] TaskQuery input, FunctionContext function) =>
        Run<CancelTaskActivity, TaskQuery, bool>(input, function);

    /// <summary><see cref="DownloadImageActivity"/>.</summary>
    [Function(DownloadImageActivity.Name)]
    public static Task<JobImage> DownloadImage([ActivityTrigger] DownloadRequest input, FunctionContext function) =>
        Run<DownloadImageActivity, DownloadRequest, JobImage>(input, function);

    /// <summary><see cref="WriteManifestActivity"/>.</summary>
    [Function(WriteManifestActivity.Name)]
    public static Task<bool> WriteManifest([ActivityTrigger] CompletionDelivery input, FunctionContext function) =>
        Run<WriteManifestActivity, CompletionDelivery, bool>(input, function);

    /// <summary><see cref="SendWebhookActivity"/>.</summary>
    [Function(SendWebhookActivity.Name)]
    public static Task<bool> SendWebhook([ActivityTrigger] CompletionDelivery input, FunctionContext function) =>
        Run<SendWebhookActivity, CompletionDelivery, bool>(input, function);

    /// <summary><see cref="SendCompletionQueueMessageActivity"/>.</summary>
    [Function(SendCompletionQueueMessageActivity.Name)]
    public static Task<bool> SendCompletionQueueMessage([ActivityTrigger] CompletionDelivery input, FunctionContext function) =>
        Run<SendCompletionQueueMessageActivity, CompletionDelivery, bool>(input, function);

    private static Task<TOutput> Run<TActivity, TInput, TOutput>(TInput input, FunctionContext function)
        where TActivity : IActivity<TInput, TOutput> =>
        function.InstanceServices.GetRequiredService<TActivity>().RunAsync(input, function.CancellationToken);
}
