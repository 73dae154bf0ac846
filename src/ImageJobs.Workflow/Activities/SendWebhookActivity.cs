using ImageJobs.Workflow.Delivery;
using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Outbound;
using ImageJobs.Workflow.Storage;
using Microsoft.DurableTask;

namespace ImageJobs.Workflow.Activities;

/// <summary>
/// Posts the completion CloudEvent to the job's webhook, signed with Standard Webhooks headers, through the outbound
/// guard. The <c>webhook-id</c> is the event id, the same on every retry; it is posted once
/// (<see cref="JobStateStore.DeliverOnceAsync"/>).
/// </summary>
public sealed class SendWebhookActivity(HttpClient http, JobStateStore state, ImageJobsOptions options, TimeProvider time) : TaskActivity<CompletionDelivery, bool>
{
    /// <summary>The name of the <see cref="HttpClient"/> this activity uses (guarded by <see cref="OutboundUrlGuard"/>).</summary>
    public const string HttpClientName = "ImageJobs.Outbound";

    /// <summary>
    /// How long one outbound request through <see cref="HttpClientName"/> may take (webhook posts, result downloads).
    /// <see cref="JobStateStore.DeliveryClaim"/> is derived from it.
    /// </summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(100);

    /// <inheritdoc />
    public override Task<bool> RunAsync(TaskActivityContext context, CompletionDelivery input) => RunAsync(input, CancellationToken.None);

    // The worker gives activities no cancellation token; tests pass one.
    internal async Task<bool> RunAsync(CompletionDelivery input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var secret = options.WebhookSecret;
        if (string.IsNullOrEmpty(secret))
        {
            throw new InvalidOperationException("IMAGEJOBS_WEBHOOK_SECRET is not set; webhooks cannot be signed.");
        }

        return await state.DeliverOnceAsync(input.Job.JobId, "webhook", ct => PostAsync(input, secret, ct), cancellationToken);
    }

    private async Task PostAsync(CompletionDelivery input, string secret, CancellationToken cancellationToken)
    {
        var body = input.Event.ToUtf8Json(DurableJson.Options);
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(input.Job.Notify.WebhookUrl!))
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/cloudevents+json") { CharSet = "utf-8" };
        request.Headers.Add(WebhookSignature.IdHeader, input.Event.Id);
        request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(secret, input.Event.Id, timestamp, body));
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"The webhook answered {(int)response.StatusCode}.", null, response.StatusCode);
        }
    }
}
