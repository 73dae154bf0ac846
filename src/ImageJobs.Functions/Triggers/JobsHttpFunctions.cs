using ImageJobs.Functions.Http;
using ImageJobs.Workflow.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace ImageJobs.Functions.Triggers;

/// <summary>
/// The jobs HTTP API (<see cref="JobsRoutes"/> under Functions' <c>api/</c> prefix), behind function keys. Each
/// function is one line: the <see cref="JobsApi"/> handler on the bound client, its <see cref="IResult"/> returned as an
/// <see cref="IActionResult"/> (<see cref="ResultActionResult"/>). The management payload points at these routes, never
/// at Durable's webhooks (which carry the system key).
/// </summary>
/// <param name="api">The jobs API; each call passes it the bound client.</param>
public sealed class JobsHttpFunctions(JobsApi api)
{
    /// <summary><c>POST api/jobs</c>.</summary>
    [Function("StartJob")]
    public Task<IActionResult> StartJob(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = JobsRoutes.Jobs)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        api.StartAsync(client, request, cancellationToken).AsActionResult();

    /// <summary><c>GET api/jobs</c>.</summary>
    [Function("ListJobs")]
    public static Task<IActionResult> ListJobs(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = JobsRoutes.Jobs)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        JobsApi.ListAsync(client, request, cancellationToken).AsActionResult();

    /// <summary><c>GET api/jobs/{id}</c>.</summary>
    [Function("GetJob")]
    public Task<IActionResult> GetJob(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = JobsRoutes.Job)] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        api.GetAsync(client, request, id, cancellationToken).AsActionResult();

    /// <summary><c>POST api/jobs/{id}/cancel</c>.</summary>
    [Function("CancelJob")]
    public static Task<IActionResult> CancelJob(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = JobsRoutes.Cancel)] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        JobsApi.CancelAsync(client, id, cancellationToken).AsActionResult();

    /// <summary><c>POST api/jobs/{id}/events/{name}</c>.</summary>
    [Function("RaiseJobEvent")]
    public static Task<IActionResult> RaiseJobEvent(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = JobsRoutes.Event)] HttpRequest request,
        string id,
        string name,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        JobsApi.RaiseEventAsync(client, request, id, name, cancellationToken).AsActionResult();

    /// <summary><c>DELETE api/jobs/{id}[?deleteResults=true]</c>.</summary>
    [Function("PurgeJob")]
    public Task<IActionResult> PurgeJob(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = JobsRoutes.Job)] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        api.PurgeAsync(client, request, id, cancellationToken).AsActionResult();
}
