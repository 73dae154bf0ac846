using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ImageJobs.Workflow.Activities;
using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Provider;

namespace ImageJobs.Workflow.Storage;

/// <summary>
/// The pipeline's own small records in blob storage (<see cref="ImageJobsOptions.StateContainer"/>):
/// <c>jobs/{jobId}/submission.json</c>, delivery markers <c>jobs/{jobId}/delivered/{channel}</c>, and learned
/// durations <c>models/{model}/durations.json</c>, and the provider's shared pacing lanes <c>pacing/{lane}.json</c>
/// (<see cref="ProviderPacing"/>). Writes are create-only or ETag-conditional.
/// </summary>
public sealed class JobStateStore(BlobServiceClient blobs, ImageJobsOptions options)
{
    private readonly BlobContainerClient _container = blobs.GetBlobContainerClient(options.StateContainer);
    private int _created;

    /// <summary>Reads a job's submission record.</summary>
    public async Task<(SubmissionRecord? Record, ETag ETag)> GetSubmissionAsync(string jobId, CancellationToken cancellationToken)
    {
        var (record, etag) = await ReadAsync<SubmissionRecord>($"jobs/{jobId}/submission.json", cancellationToken);
        return (record, etag);
    }

    /// <summary>Writes a job's submission record, only if it is unchanged since <paramref name="etag"/> (default: only if absent).</summary>
    public Task<ETag> PutSubmissionAsync(SubmissionRecord record, ETag? etag, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        return WriteAsync($"jobs/{record.JobId}/submission.json", record, etag, cancellationToken);
    }

    /// <summary>Removes a job's submission intent after a call that created no task (an error response).</summary>
    public async Task DeleteSubmissionAsync(string jobId, ETag etag, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        await _container.GetBlobClient($"jobs/{jobId}/submission.json")
            .DeleteIfExistsAsync(conditions: new BlobRequestConditions { IfMatch = etag }, cancellationToken: cancellationToken);
    }

    /// <summary>
    /// Releases an intent after a call that created no task: removed, or, when it lists uploads, kept and marked
    /// <see cref="SubmissionRecord.Refused"/> so the next submit reuses the uploaded files.
    /// </summary>
    public async Task ReleaseSubmissionAsync(SubmissionRecord intent, ETag etag, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(intent);
        if (intent.Uploads is { Count: > 0 })
        {
            await PutSubmissionAsync(intent with { Refused = true }, etag, cancellationToken);
        }
        else
        {
            await DeleteSubmissionAsync(intent.JobId, etag, cancellationToken);
        }
    }

    /// <summary>
    /// How long a claim to deliver a completion holds before another run may take it over: the outbound client's
    /// <see cref="SendWebhookActivity.RequestTimeout"/> plus <see cref="DeliveryClaimMargin"/>, so a slow webhook is never
    /// posted a second time while the first post can still succeed.
    /// </summary>
    public static readonly TimeSpan DeliveryClaim = SendWebhookActivity.RequestTimeout + DeliveryClaimMargin;

    /// <summary>What a delivery claim adds to the request timeout: time to mark the delivery once the post returned.</summary>
    public static TimeSpan DeliveryClaimMargin => TimeSpan.FromSeconds(20);

    /// <summary>
    /// Runs <paramref name="deliver"/> for a job's completion <paramref name="channel"/> once. The marker
    /// <c>jobs/{jobId}/delivered/{channel}</c> is first written create-only as a claim that holds for
    /// <see cref="DeliveryClaim"/>, then marked delivered. Another run of the same activity can happen: the Azure Storage
    /// provider sends an episode's activity messages before it commits the episode, so two workers that both ran it
    /// both schedule the activity. That run waits while the claim is live and returns false once it is delivered. A
    /// claim whose owner died expires and is taken over, so a completion is never lost (it may then repeat). When
    /// <paramref name="deliver"/> throws, the claim is released for the retry.
    /// </summary>
    /// <returns>True when this run delivered; false when it was delivered already.</returns>
    public async Task<bool> DeliverOnceAsync(string jobId, string channel, Func<CancellationToken, Task> deliver, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deliver);
        await EnsureContainerAsync(cancellationToken);
        var marker = _container.GetBlobClient($"jobs/{jobId}/delivered/{channel}");
        var claim = await ClaimAsync(marker, cancellationToken);
        if (claim is null)
        {
            return false;
        }

        try
        {
            await deliver(cancellationToken);
        }
        catch
        {
            await marker.DeleteIfExistsAsync(conditions: new BlobRequestConditions { IfMatch = claim }, cancellationToken: CancellationToken.None);
            throw;
        }

        try
        {
            await marker.UploadAsync(BinaryData.Empty, new BlobUploadOptions
            {
                Metadata = new Dictionary<string, string> { [DeliveryState] = Delivered },
                Conditions = new BlobRequestConditions { IfMatch = claim },
            }, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            // The claim outlived DeliveryClaim and another run took it over; that run marks it.
        }

        return true;
    }

    private const string DeliveryState = "state";
    private const string Claimed = "claimed";
    private const string Delivered = "delivered";
    private const string ClaimedUntil = "until";

    /// <summary>Claims a delivery marker: the claim's ETag, or null when the completion was delivered already.</summary>
    private static async Task<ETag?> ClaimAsync(BlobClient marker, CancellationToken cancellationToken)
    {
        while (true)
        {
            var until = DateTimeOffset.UtcNow + DeliveryClaim;
            var claim = new Dictionary<string, string>
            {
                [DeliveryState] = Claimed,
                [ClaimedUntil] = until.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            };
            try
            {
                return (await marker.UploadAsync(BinaryData.Empty, new BlobUploadOptions
                {
                    Metadata = claim,
                    Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                }, cancellationToken)).Value.ETag;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412)
            {
            }

            BlobProperties existing;
            try
            {
                existing = (await marker.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                continue; // released by a run whose delivery failed: claim it afresh
            }

            // A marker without a claim is a delivery (markers written before claims existed carry no metadata).
            if (!existing.Metadata.TryGetValue(DeliveryState, out var state) || state != Claimed)
            {
                return null;
            }

            var heldUntil = existing.Metadata.TryGetValue(ClaimedUntil, out var text)
                && DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out var parsed)
                ? parsed : DateTimeOffset.MinValue;
            var left = heldUntil - DateTimeOffset.UtcNow;
            if (left > TimeSpan.Zero)
            {
                await Task.Delay(left < ClaimPoll ? left : ClaimPoll, cancellationToken);
                continue;
            }

            try
            {
                return (await marker.UploadAsync(BinaryData.Empty, new BlobUploadOptions
                {
                    Metadata = claim,
                    Conditions = new BlobRequestConditions { IfMatch = existing.ETag },
                }, cancellationToken)).Value.ETag;
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 409 or 412)
            {
                // Someone else changed it first; look again.
            }
        }
    }

    /// <summary>How often a run waiting on another's live claim looks again.</summary>
    private static readonly TimeSpan ClaimPoll = TimeSpan.FromMilliseconds(200);

    /// <summary>Reads a model's recent running times.</summary>
    public async Task<(IReadOnlyList<double> Seconds, ETag ETag)> GetDurationsAsync(string model, CancellationToken cancellationToken)
    {
        var (record, etag) = await ReadAsync<double[]>($"models/{model}/durations.json", cancellationToken);
        return (record ?? [], etag);
    }

    /// <summary>Writes a model's recent running times, only if unchanged since <paramref name="etag"/>.</summary>
    public Task<ETag> PutDurationsAsync(string model, IReadOnlyList<double> seconds, ETag? etag, CancellationToken cancellationToken) =>
        WriteAsync($"models/{model}/durations.json", seconds, etag, cancellationToken);

    /// <summary>Reads a pacing lane's slots (<c>pacing/{lane}.json</c>; empty and a default ETag when there is none).</summary>
    public async Task<(IReadOnlyList<PacingSlot> Slots, ETag ETag)> GetPacingAsync(string lane, CancellationToken cancellationToken)
    {
        var (record, etag) = await ReadAsync<PacingSlot[]>($"pacing/{lane}.json", cancellationToken);
        return (record ?? [], etag);
    }

    /// <summary>Writes a pacing lane's slots, only if unchanged since <paramref name="etag"/> (default: only if absent).</summary>
    public Task<ETag> PutPacingAsync(string lane, IReadOnlyList<PacingSlot> slots, ETag? etag, CancellationToken cancellationToken) =>
        WriteAsync($"pacing/{lane}.json", slots, etag, cancellationToken);

    /// <summary>Deletes everything recorded for a job.</summary>
    public async Task DeleteJobAsync(string jobId, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        await foreach (var blob in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = $"jobs/{jobId}/" }, cancellationToken))
        {
            await _container.DeleteBlobIfExistsAsync(blob.Name, cancellationToken: cancellationToken);
        }
    }

    private async Task<(T? Value, ETag ETag)> ReadAsync<T>(string name, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        try
        {
            var content = await _container.GetBlobClient(name).DownloadContentAsync(cancellationToken);
            return (content.Value.Content.ToObjectFromJson<T>(DurableJson.Options), content.Value.Details.ETag);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return (default, default);
        }
    }

    private async Task<ETag> WriteAsync<T>(string name, T value, ETag? etag, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        var conditions = etag is { } e && e != default ? new BlobRequestConditions { IfMatch = e } : new BlobRequestConditions { IfNoneMatch = ETag.All };
        var response = await _container.GetBlobClient(name).UploadAsync(
            BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(value, DurableJson.Options)),
            new BlobUploadOptions { Conditions = conditions, HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" } },
            cancellationToken);
        return response.Value.ETag;
    }

    private async Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _created) == 0)
        {
            await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            Volatile.Write(ref _created, 1);
        }
    }
}
