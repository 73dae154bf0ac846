using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ImageJobs.DashScope.Emulator;

namespace ImageJobs.DashScope.Emulator.Tests;

/// <summary>One emulator per test, and a raw HttpClient speaking the wire protocol to it.</summary>
public sealed class EmulatorClient : IAsyncDisposable
{
    public const string ApiKey = "sk-test";

    /// <summary>Where the tests' <see cref="FakeTimeProvider"/> clocks start.</summary>
    public static readonly DateTimeOffset ClockStart = new(2025, 1, 8, 8, 3, 59, 840, TimeSpan.Zero);
    public const string Text2Image = "services/aigc/text2image/image-synthesis";
    public const string Image2Image = "services/aigc/image2image/image-synthesis";
    public const string Multimodal = "services/aigc/multimodal-generation/generation";

    private EmulatorClient(DashScopeEmulatorHost host)
    {
        Host = host;
        Http = new HttpClient { BaseAddress = host.BaseAddress };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
    }

    public DashScopeEmulatorHost Host { get; }

    public HttpClient Http { get; }

    public static async Task<EmulatorClient> StartAsync(Action<DashScopeEmulatorOptions>? configure = null, TimeProvider? time = null)
    {
        var options = new DashScopeEmulatorOptions { ApiKey = ApiKey, TimeScale = 0.002, Seed = 1 };
        configure?.Invoke(options);
        return new EmulatorClient(await DashScopeEmulator.StartAsync(options, time ?? TimeProvider.System));
    }

    public static string Body(string model, object input, object? parameters = null) =>
        JsonSerializer.Serialize(parameters is null ? new { model, input } : (object)new { model, input, parameters });

    public async Task<Reply> PostAsync(string path, string json, bool isAsync = true, string? apiKey = ApiKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (isAsync)
        {
            request.Headers.Add("X-DashScope-Async", "enable");
        }

        request.Headers.Authorization = apiKey is null ? null : new AuthenticationHeaderValue("Bearer", apiKey);
        using var response = await Http.SendAsync(request);
        return await Reply.ReadAsync(response);
    }

    public async Task<string> SubmitAsync(string path, string json)
    {
        var reply = await PostAsync(path, json);
        Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
        Assert.Equal("PENDING", reply.Json.GetProperty("output").GetProperty("task_status").GetString());
        return reply.Json.GetProperty("output").GetProperty("task_id").GetString()!;
    }

    public async Task<Reply> GetTaskAsync(string taskId)
    {
        using var response = await Http.GetAsync($"tasks/{taskId}");
        return await Reply.ReadAsync(response);
    }

    public async Task<Reply> CancelAsync(string taskId)
    {
        using var response = await Http.PostAsync($"tasks/{taskId}/cancel", null);
        return await Reply.ReadAsync(response);
    }

    public async Task<string> StatusAsync(string taskId)
    {
        var reply = await GetTaskAsync(taskId);
        Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
        return reply.Json.GetProperty("output").GetProperty("task_status").GetString()!;
    }

    /// <summary>Polls (real time) until the task leaves PENDING/RUNNING; a generous cap only guards against hangs.</summary>
    public async Task<JsonElement> WaitAsync(string taskId)
    {
        for (var i = 0; i < 3000; i++)
        {
            var reply = await GetTaskAsync(taskId);
            var status = reply.Json.GetProperty("output").GetProperty("task_status").GetString();
            if (status is not ("PENDING" or "RUNNING"))
            {
                return reply.Json;
            }

            await Task.Delay(10);
        }

        throw new TimeoutException($"Task {taskId} did not finish.");
    }

    public async Task<(HttpStatusCode Status, byte[] Bytes)> DownloadAsync(string url)
    {
        using var plain = new HttpClient();
        using var response = await plain.GetAsync(new Uri(url));
        return (response.StatusCode, await response.Content.ReadAsByteArrayAsync());
    }

    public static (int Width, int Height) PngSize(byte[] png)
    {
        Assert.True(png.Length > 33, "too short for a PNG");
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        Assert.Equal("IHDR", Encoding.ASCII.GetString(png, 12, 4));
        return (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Host.DisposeAsync();
    }
}

public sealed record Reply(HttpStatusCode Status, string Text, JsonElement Json, string? ContentType)
{
    public string? Code => Json.ValueKind == JsonValueKind.Object && Json.TryGetProperty("code", out var c) ? c.GetString() : null;

    public string? Message => Json.ValueKind == JsonValueKind.Object && Json.TryGetProperty("message", out var m) ? m.GetString() : null;

    public JsonElement Output => Json.GetProperty("output");

    public static async Task<Reply> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        JsonElement json = default;
        if (text.StartsWith('{'))
        {
            using var doc = JsonDocument.Parse(text);
            json = doc.RootElement.Clone();
        }

        return new Reply(response.StatusCode, text, json, response.Content.Headers.ContentType?.ToString());
    }
}
