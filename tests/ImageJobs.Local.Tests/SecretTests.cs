using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using ImageJobs.DashScope.Emulator;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Testing;
using ImageJobs.Workflow.Jobs;

namespace ImageJobs.Local.Tests;

/// <summary>
/// The DashScope key never appears in logs (every level, every category), job statuses, any blob or metadata in any
/// container (durable history included), any queue message, or problem bodies — on success and on failure paths,
/// including the provider refusing the key.
/// </summary>
public sealed class SecretTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task DashScopeKey_AppearsNowhere()
    {
        var key = "sk-LeakCanary" + Guid.NewGuid().ToString("N");
        var seen = new List<(string Where, string Text)>();
        var jobIds = new List<string>();

        // The provider accepts the key: a success, an edit with a blob input, a refused prompt, a partial failure.
        await using (var app = await TestApp.StartAsync(azurite, new DashScopeEmulatorOptions
        {
            ApiKey = key, DataInspectionTrigger = "forbidden", ImageFailureRate = 0.3, Seed = 4, LimitScale = 20,
        }))
        {
            var inputs = app.Blobs.GetBlobContainerClient("inputs");
            await inputs.CreateIfNotExistsAsync();
            await inputs.GetBlobClient("secret.png").UploadAsync(BinaryData.FromBytes(TestImages.Png(640, 512)), overwrite: true);
            var jobs = new[]
            {
                Job("qwen-image-plus", new JsonObject { ["prompt"] = "a cat" }, new JsonObject()),
                Job("wanx2.1-imageedit", new JsonObject { ["function"] = "stylization_all", ["prompt"] = "ink", ["base_image_url"] = "blob:inputs/secret.png" }, new JsonObject { ["n"] = 1 }),
                Job("wanx-v1", new JsonObject { ["prompt"] = "a forbidden cat" }, new JsonObject { ["n"] = 1 }),
                Job("wanx-v1", new JsonObject { ["prompt"] = "four cats" }, new JsonObject { ["n"] = 4 }),
                Job("wanx2.1-imageedit", new JsonObject { ["function"] = "stylization_all", ["prompt"] = "ink", ["base_image_url"] = "blob:inputs/missing.png" }, new JsonObject { ["n"] = 1 }),
            };
            foreach (var job in jobs)
            {
                jobIds.Add(await app.StartJobAsync(job));
            }

            var results = new List<JobResult>();
            foreach (var id in jobIds)
            {
                results.Add(await app.WaitForJobAsync(id));
            }

            Assert.Contains(results, r => r.Status == JobStatus.Succeeded);
            Assert.Contains(results, r => r.Error?.Code == "DataInspectionFailed");
            Assert.Contains(results, r => r.Error?.Code == "InvalidInput");
            await CollectHttpAsync(app, jobIds, seen);
            seen.AddRange(app.Logs.Entries.Select(e => ("log", e)));
        }

        // The provider refuses the key: the job fails with the provider's error, which must not echo it.
        await using (var app = await TestApp.StartAsync(azurite, new DashScopeEmulatorOptions { ApiKey = "sk-the-right-one", LimitScale = 20 },
            new Dictionary<string, string?> { ["DashScope:ApiKey"] = key }))
        {
            var id = await app.StartJobAsync(Job("qwen-image", new JsonObject { ["prompt"] = "a cat" }, new JsonObject()));
            var result = await app.WaitForJobAsync(id);
            Assert.Equal(JobStatus.Failed, result.Status);
            Assert.Equal("InvalidApiKey", result.Error?.Code);
            await CollectHttpAsync(app, [id], seen);
            seen.AddRange(app.Logs.Entries.Select(e => ("log", e)));
        }

        await CollectStorageAsync(azurite, seen);

        // The capture is not empty: it holds the jobs' own traces.
        Assert.Contains(seen, s => s.Where == "log" && s.Text.Contains(jobIds[0], StringComparison.Ordinal));
        Assert.Contains(seen, s => s.Where.StartsWith("blob ", StringComparison.Ordinal) && s.Text.Contains(jobIds[0], StringComparison.Ordinal));
        Assert.Contains(seen, s => s.Where.StartsWith("queue ", StringComparison.Ordinal));
        var secretPart = key["sk-".Length..];
        var leaks = seen.Where(s => s.Text.Contains(secretPart, StringComparison.OrdinalIgnoreCase)).Select(s => $"{s.Where}: {s.Text[..Math.Min(300, s.Text.Length)]}").ToList();
        Assert.True(leaks.Count == 0, $"The DashScope key leaked in {leaks.Count} places:\n{string.Join("\n", leaks.Take(10))}");
    }

    private static JsonObject Job(string model, JsonObject input, JsonObject parameters) => new()
    {
        ["jobId"] = $"s-{Guid.NewGuid():N}",
        ["model"] = model,
        ["input"] = input,
        ["parameters"] = parameters,
    };

    private static async Task CollectHttpAsync(TestApp app, IEnumerable<string> ids, List<(string, string)> seen)
    {
        foreach (var id in ids)
        {
            seen.Add(("status " + id, await app.Http.GetStringAsync($"api/jobs/{id}")));
        }

        seen.Add(("list", await app.Http.GetStringAsync("api/jobs?top=100")));
        seen.Add(("404", await (await app.Http.GetAsync("api/jobs/nope")).Content.ReadAsStringAsync()));
        seen.Add(("400", await (await app.PostJobAsync(new JsonObject { ["model"] = "wanx-v1" })).Content.ReadAsStringAsync()));
        seen.Add(("400 bad param", await (await app.PostJobAsync(Job("qwen-image", new JsonObject { ["prompt"] = "x" }, new JsonObject { ["n"] = 3 }))).Content.ReadAsStringAsync()));
        seen.Add(("409", await (await app.Http.PostAsync($"api/jobs/{ids.First()}/cancel", null)).Content.ReadAsStringAsync()));
        using var anonymous = new HttpClient { BaseAddress = app.BaseAddress };
        seen.Add(("401", await (await anonymous.GetAsync("api/jobs")).Content.ReadAsStringAsync()));
        seen.Add(("emulator stats", (await new HttpClient().GetFromJsonAsync<JsonObject>(new Uri(app.Emulator.RootAddress, "emulator/stats")))!.ToJsonString()));
    }

    private static async Task CollectStorageAsync(AzuriteFixture azurite, List<(string, string)> seen)
    {
        var blobs = new BlobServiceClient(azurite.ConnectionString);
        await foreach (var container in blobs.GetBlobContainersAsync(Azure.Storage.Blobs.Models.BlobContainerTraits.Metadata))
        {
            var client = blobs.GetBlobContainerClient(container.Name);
            await foreach (var item in client.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Traits = Azure.Storage.Blobs.Models.BlobTraits.Metadata }))
            {
                var content = (await client.GetBlobClient(item.Name).DownloadContentAsync()).Value.Content.ToArray();
                var metadata = string.Join(";", item.Metadata.Select(m => $"{m.Key}={m.Value}"));
                seen.Add(($"blob {container.Name}/{item.Name}", item.Name + "|" + metadata + "|" + Encoding.UTF8.GetString(content)));
            }
        }

        var queues = new QueueServiceClient(azurite.ConnectionString);
        await foreach (var queue in queues.GetQueuesAsync())
        {
            foreach (var message in (await queues.GetQueueClient(queue.Name).PeekMessagesAsync(32)).Value)
            {
                var text = message.Body.ToString();
                var decoded = text;
                try
                {
                    decoded = Encoding.UTF8.GetString(Convert.FromBase64String(text));
                }
                catch (FormatException)
                {
                }

                seen.Add(($"queue {queue.Name}", text + "|" + decoded));
            }
        }
    }
}
