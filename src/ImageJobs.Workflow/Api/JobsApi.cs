using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Intake;
using ImageJobs.Workflow.Jobs;
using ImageJobs.Workflow.Orchestrations;
using ImageJobs.Workflow.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask.Client;

namespace ImageJobs.Workflow.Api;

/// <summary>
/// The jobs HTTP API, written once for both hosts: the local host maps these handlers with minimal APIs, the Functions
/// app calls them from its HTTP triggers. Every 4xx is RFC 9457 problem details; validation problems name each field.
/// <list type="table">
/// <item><term><c>POST /api/jobs</c></term><description>start a job → 202 + management payload</description></item>
/// <item><term><c>GET /api/jobs/{id}</c></term><description>status: 202 while running, 200 when done, 404 unknown</description></item>
/// <item><term><c>GET /api/jobs?status=&amp;from=&amp;to=&amp;top=</c></term><description>list</description></item>
/// <item><term><c>POST /api/jobs/{id}/cancel</c></term><description>cancel (before the submit: unpaid; after it: at the provider while PENDING)</description></item>
/// <item><term><c>POST /api/jobs/{id}/events/{name}</c></term><description>raise an event</description></item>
/// <item><term><c>DELETE /api/jobs/{id}[?deleteResults=true]</c></term><description>purge</description></item>
/// </list>
/// Each handler takes the <see cref="DurableTaskClient"/> of the call: the local host's from DI, the Functions app's
/// from its <c>[DurableClient]</c> binding.
/// </summary>
public sealed class JobsApi(JobIntake intake, BlobServiceClient blobs, JobStateStore state, TimeProvider time)
{
    /// <summary>How long the read SAS URLs in a status response stay valid.</summary>
    public static readonly TimeSpan ResultLinkLifetime = TimeSpan.FromMinutes(15);

    /// <summary>The largest request body the jobs API takes; a host's server limit (Kestrel's in the local host) is set to it.</summary>
    public const int MaxBodyBytes = 32 * 1024 * 1024;

    /// <summary><c>POST /api/jobs</c>: validates the job and starts it (idempotent by <c>jobId</c>).</summary>
    public async Task<IResult> StartAsync(DurableTaskClient client, HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > MaxBodyBytes)
        {
            return Problem(413, "Request too large", $"The job must be at most {MaxBodyBytes} bytes.");
        }

        if (!IsJson(request.ContentType))
        {
            return UnsupportedMediaType(request.ContentType);
        }

        var (body, invalid) = await ReadJsonAsync(request, "The body", cancellationToken);
        if (invalid is not null)
        {
            return Validation([invalid]);
        }

        var (job, errors) = await intake.ValidateAsync(body, Guid.NewGuid().ToString("N"), cancellationToken);
        if (job is null)
        {
            return Validation(errors);
        }

        var (id, _) = await JobIntake.StartAsync(client, job, cancellationToken);
        return TypedResults.Json(ManagementPayload(request, id), DurableJson.Options, statusCode: StatusCodes.Status202Accepted)
            .WithHeaders(("Location", StatusUri(request, id)), ("Retry-After", "5"));
    }

    /// <summary><c>GET /api/jobs/{id}</c>: Durable's status shape; stored images carry a short-lived read link.</summary>
    public async Task<IResult> GetAsync(DurableTaskClient client, HttpRequest request, string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var instance = await client.GetInstanceAsync(id, getInputsAndOutputs: true, cancellationToken);
        if (instance is null)
        {
            return Problem(404, "Job not found", $"There is no job '{id}'.");
        }

        var body = await StatusBodyAsync(instance, cancellationToken);
        if (instance.IsCompleted)
        {
            return TypedResults.Json(body, DurableJson.Options);
        }

        return TypedResults.Json(body, DurableJson.Options, statusCode: StatusCodes.Status202Accepted)
            .WithHeaders(("Location", StatusUri(request, id)), ("Retry-After", "5"));
    }

    /// <summary><c>GET /api/jobs?status=&amp;from=&amp;to=&amp;top=&amp;continuationToken=</c>.</summary>
    public static async Task<IResult> ListAsync(DurableTaskClient client, HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new List<FieldError>();
        var query = new OrchestrationQuery { PageSize = 50, ContinuationToken = request.Query["continuationToken"].FirstOrDefault() };
        if (request.Query["status"].FirstOrDefault() is { Length: > 0 } statusText)
        {
            var statuses = new List<OrchestrationRuntimeStatus>();
            foreach (var s in statusText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (Enum.TryParse<OrchestrationRuntimeStatus>(s, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !char.IsAsciiDigit(s[0]))
                {
                    statuses.Add(parsed);
                }
                else
                {
                    errors.Add(new("status", $"status '{s}' is not one of {string.Join(", ", Enum.GetNames<OrchestrationRuntimeStatus>())}."));
                }
            }

            query = query with { Statuses = statuses };
        }

        query = query with { CreatedFrom = Date(request, "from", errors), CreatedTo = Date(request, "to", errors) };
        if (request.Query["top"].FirstOrDefault() is { } topText)
        {
            if (int.TryParse(topText, NumberStyles.None, CultureInfo.InvariantCulture, out var top) && top is >= 1 and <= 1000)
            {
                query = query with { PageSize = top };
            }
            else
            {
                errors.Add(new("top", "top must be a whole number from 1 to 1000."));
            }
        }

        if (errors.Count > 0)
        {
            return Validation(errors);
        }

        // One page of the task hub's own query; its continuation token goes back to the caller as it is.
        var page = await FirstPageAsync(client, query, cancellationToken);
        return TypedResults.Json(new
        {
            jobs = page.Values.Select(i => new
            {
                name = i.Name,
                instanceId = i.InstanceId,
                runtimeStatus = i.RuntimeStatus.ToString(),
                createdTime = i.CreatedAt,
                lastUpdatedTime = i.LastUpdatedAt,
            }),
            continuationToken = page.ContinuationToken,
        }, DurableJson.Options);
    }

    /// <summary><c>POST /api/jobs/{id}/cancel</c>: asks the job to stop; it cancels the provider task while it is PENDING.</summary>
    public static async Task<IResult> CancelAsync(DurableTaskClient client, string id, CancellationToken cancellationToken)
    {
        var instance = await client.GetInstanceAsync(id, getInputsAndOutputs: false, cancellation: cancellationToken);
        if (instance is null)
        {
            return Problem(404, "Job not found", $"There is no job '{id}'.");
        }

        if (instance.IsCompleted)
        {
            return Problem(409, "Job already finished", $"Job '{id}' is {instance.RuntimeStatus}.");
        }

        await client.RaiseEventAsync(id, ImageJobOrchestrator.CancelEventName, null, cancellationToken);
        return TypedResults.Accepted((string?)null);
    }

    /// <summary><c>POST /api/jobs/{id}/events/{name}</c>: raises an external event with the JSON body as payload.</summary>
    public static async Task<IResult> RaiseEventAsync(DurableTaskClient client, HttpRequest request, string id, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        JsonNode? payload = null;
        if (request.ContentLength is null or > 0)
        {
            if (request.ContentType is not null && !IsJson(request.ContentType))
            {
                return UnsupportedMediaType(request.ContentType);
            }

            (payload, var invalid) = await ReadJsonAsync(request, "The event payload", cancellationToken);
            if (invalid is not null)
            {
                return Validation([invalid]);
            }
        }

        if (await client.GetInstanceAsync(id, getInputsAndOutputs: false, cancellation: cancellationToken) is not { } instance)
        {
            return Problem(404, "Job not found", $"There is no job '{id}'.");
        }

        if (instance.IsCompleted)
        {
            return Problem(409, "Job already finished", $"Job '{id}' is {instance.RuntimeStatus}; it takes no more events.");
        }

        await client.RaiseEventAsync(id, name, payload, cancellationToken);
        return TypedResults.Accepted((string?)null);
    }

    /// <summary><c>DELETE /api/jobs/{id}[?deleteResults=true]</c>: purges a finished job's history (and its images).</summary>
    public async Task<IResult> PurgeAsync(DurableTaskClient client, HttpRequest request, string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var instance = await client.GetInstanceAsync(id, getInputsAndOutputs: true, cancellationToken);
        if (instance is null)
        {
            return Problem(404, "Job not found", $"There is no job '{id}'.");
        }

        if (!instance.IsCompleted)
        {
            return Problem(409, "Job still running", $"Job '{id}' is {instance.RuntimeStatus}; cancel it first.");
        }

        var deleteResults = string.Equals(request.Query["deleteResults"].FirstOrDefault(), "true", StringComparison.OrdinalIgnoreCase);
        var deletedBlobs = 0;
        if (deleteResults && DurableJson.Deserialize<ImageJob>(instance.SerializedInput) is { } job && DurableJson.Deserialize<JobResult>(instance.SerializedOutput) is { } result)
        {
            foreach (var (container, name) in WrittenBlobs(job, result))
            {
                if (await DeleteIfWrittenByAsync(blobs.GetBlobContainerClient(container).GetBlobClient(name), job.JobId, cancellationToken))
                {
                    deletedBlobs++;
                }
            }
        }

        await state.DeleteJobAsync(id, cancellationToken);
        var purged = await client.PurgeInstanceAsync(id, cancellation: cancellationToken);
        return TypedResults.Ok(new { instancesDeleted = purged.PurgedInstanceCount, blobsDeleted = deletedBlobs });
    }

    // Exactly the blobs the job recorded writing: its stored images and its manifest. Never a listing by prefix, which
    // would also match other jobs' results stored under {prefix}{jobId}/.
    private static IEnumerable<(string Container, string Name)> WrittenBlobs(ImageJob job, JobResult result)
    {
        foreach (var image in result.Images)
        {
            if (image is { Container: { } container, BlobName: { } name })
            {
                yield return (container, name);
            }
        }

        if (result.Manifest is { } manifest)
        {
            yield return (job.Output.Container, manifest);
        }
    }

    // Deletes a blob unless its job_id metadata names another job (a blob this job found in place, not one it wrote).
    private static async Task<bool> DeleteIfWrittenByAsync(BlobClient blob, string jobId, CancellationToken cancellationToken)
    {
        try
        {
            var properties = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
            if (properties.Metadata.TryGetValue(BlobMetadata.JobId, out var owner) && owner != jobId)
            {
                return false;
            }

            return (await blob.DeleteIfExistsAsync(conditions: new BlobRequestConditions { IfMatch = properties.ETag }, cancellationToken: cancellationToken)).Value;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            return false;
        }
    }

    /// <summary>The management payload of a job, on the app's own routes (never the durable system key).</summary>
    public static object ManagementPayload(HttpRequest request, string id)
    {
        var status = StatusUri(request, id);
        return new
        {
            id,
            statusQueryGetUri = status,
            sendEventPostUri = Root(request) + JobsRoutes.PathOf(JobsRoutes.Event, id).Replace("{name}", "{eventName}", StringComparison.Ordinal),
            terminatePostUri = Root(request) + JobsRoutes.PathOf(JobsRoutes.Cancel, id),
            purgeHistoryDeleteUri = status,
        };
    }

    private static string StatusUri(HttpRequest request, string id) => Root(request) + JobsRoutes.PathOf(JobsRoutes.Job, id);

    private static string Root(HttpRequest request) => $"{request.Scheme}://{request.Host}{request.PathBase}";

    private static async Task<Microsoft.DurableTask.Page<OrchestrationMetadata>> FirstPageAsync(DurableTaskClient client, OrchestrationQuery query, CancellationToken cancellationToken)
    {
        await foreach (var page in client.GetAllInstancesAsync(query).AsPages(query.ContinuationToken, query.PageSize).WithCancellation(cancellationToken))
        {
            return page;
        }

        return new Microsoft.DurableTask.Page<OrchestrationMetadata>([]);
    }

    private async Task<object> StatusBodyAsync(OrchestrationMetadata instance, CancellationToken cancellationToken)
    {
        JsonNode? output = instance.SerializedOutput is { } o ? JsonNode.Parse(o) : null;
        if (DurableJson.Deserialize<JobResult>(instance.SerializedOutput) is { } result && output is JsonObject outputObject)
        {
            var images = new JsonArray();
            foreach (var image in result.Images)
            {
                var node = JsonSerializer.SerializeToNode(image, DurableJson.Options)!.AsObject();
                if (image.BlobName is not null && image.Container is not null)
                {
                    node["url"] = (await ReadLinkAsync(image.Container, image.BlobName, cancellationToken)).AbsoluteUri;
                }

                images.Add(node);
            }

            outputObject["images"] = images;
        }

        // The job as it was given: where a long wait stood (ImageJob.Waiting) is the orchestration's own state.
        var input = instance.SerializedInput is { } i ? JsonNode.Parse(i) : null;
        (input as JsonObject)?.Remove("waiting");
        return new
        {
            name = instance.Name,
            instanceId = instance.InstanceId,
            runtimeStatus = instance.RuntimeStatus.ToString(),
            input,
            customStatus = instance.SerializedCustomStatus is { } c ? JsonNode.Parse(c) : null,
            output,
            failureDetails = instance.FailureDetails,
            createdTime = instance.CreatedAt,
            lastUpdatedTime = instance.LastUpdatedAt,
        };
    }

    private Task<Uri> ReadLinkAsync(string container, string blobName, CancellationToken cancellationToken) =>
        ReadLinks.CreateAsync(blobs, blobs.GetBlobContainerClient(container).GetBlobClient(blobName), time, ResultLinkLifetime, cancellationToken);

    private static DateTimeOffset? Date(HttpRequest request, string name, List<FieldError> errors)
    {
        if (request.Query[name].FirstOrDefault() is not { } text)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value))
        {
            return value;
        }

        errors.Add(new(name, $"{name} must be an ISO 8601 date-time, e.g. 2026-11-21T08:00:00Z."));
        return null;
    }

    /// <summary>
    /// Whether a request's <c>Content-Type</c> is JSON: <c>application/json</c> or any <c>+json</c> type, with no charset
    /// or <c>utf-8</c> (JSON is UTF-8).
    /// </summary>
    public static bool IsJson(string? contentType) =>
        Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)
        && (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase))
        && (!media.Charset.HasValue || media.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));

    private static IResult UnsupportedMediaType(string? contentType) =>
        Problem(415, "Unsupported media type",
            $"The body must be JSON sent as Content-Type: application/json (charset utf-8 if any; +json types too); got '{contentType ?? "none"}'.");

    // The body (at most MaxBodyBytes: Kestrel and Functions stop larger ones) read as JSON by the rules of every edge.
    private static async Task<(JsonNode? Node, FieldError? Error)> ReadJsonAsync(HttpRequest request, string what, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        if (buffer.Length > MaxBodyBytes)
        {
            return (null, new FieldError("$", $"{what} is larger than {MaxBodyBytes} bytes."));
        }

        var error = ImageJobParser.TryParseJson(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), what, out var node);
        return (node, error);
    }

    /// <summary>A 400 validation problem naming every field (<c>errors</c>: field → messages).</summary>
    public static IResult Validation(IEnumerable<FieldError> errors)
    {
        var grouped = errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray());
        return TypedResults.ValidationProblem(grouped, title: "The job is not valid.", type: "https://imagejobs.dev/problems/validation");
    }

    /// <summary>A problem details result.</summary>
    public static IResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(detail, statusCode: status, title: title, type: $"https://imagejobs.dev/problems/{status}");
}

/// <summary>Adds headers to a result.</summary>
public static class ResultHeaderExtensions
{
    /// <summary>Wraps <paramref name="inner"/> so the response carries <paramref name="headers"/>.</summary>
    public static IResult WithHeaders(this IResult inner, params (string Name, string Value)[] headers) => new HeaderResult(inner, headers);

    private sealed class HeaderResult(IResult inner, (string Name, string Value)[] headers) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            ArgumentNullException.ThrowIfNull(httpContext);
            foreach (var (name, value) in headers)
            {
                httpContext.Response.Headers[name] = value;
            }

            return inner.ExecuteAsync(httpContext);
        }
    }
}
