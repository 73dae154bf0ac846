using ImageJobs.Functions.Durable;
using ImageJobs.Workflow.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace ImageJobs.Functions.Triggers;

/// <summary>
/// The jobs HTTP API (<see cref="JobsApi"/>'s routes under Functions' <c>api/</c> prefix), behind function keys. Each
/// function is one line: the <see cref="JobsApi"/> handler on the bound client. The management payload points at these
/// routes, never at Durable's webhooks (which carry the system key).
/// </summary>
/// <param name="services">Builds <see cref="JobsApi"/> on the bound client.</param>
public sealed class JobsHttpFunctions(DurableClientServices services)
{
    /// <summary><c>POST api/jobs</c>.</summary>
    [Function("StartJob")]
    public Task<IResult> StartJob(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "jobs")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        services.JobsApi(client).StartAsync(request, cancellationToken);

    /// <summary><c>GET api/jobs</c>.</summary>
    [Function("ListJobs")]
    public Task<IResult> ListJobs(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "jobs")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        services.JobsApi(client).ListAsync(request, cancellationToken);

    /// <summary><c>GET api/jobs/{id}</c>.</summary>
    [Function("GetJob")]
    public Task<IResult> GetJob(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "jobs/{id}")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        services.JobsApi(client).GetAsync(request, id, cancellationToken);

    /// <summary><c>POST api/jobs/{id}/cancel</c>.</summary>
    [Function("CancelJob")]
    public Task<IResult> CancelJob(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "jobs/{id}/cancel")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        services.JobsApi(client).CancelAsync(id, cancellationToken);

    /// <summary><c>POST api/jobs/{id}/events/{name}</c>.</summary>
    [Function("RaiseJobEvent")]
    public Task<IResult> RaiseJobEvent(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "jobs/{id}/events/{name}")] HttpRequest request,
        string id,
        string name,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        services.JobsApi(client).RaiseEventAsync(request, id, name, cancellationToken);

    /// <summary><c>DELETE api/jobs/{id}[?deleteResults=true]</c>.</summary>
    [Function("PurgeJob")]
    public Task<IResult> PurgeJob(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = "jobs/{id}")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        services.JobsApi(client).PurgeAsync(request, id, cancellationToken);
}
