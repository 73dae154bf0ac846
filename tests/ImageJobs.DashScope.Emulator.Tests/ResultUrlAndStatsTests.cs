using System.Net;
using System.Text.Json;

namespace ImageJobs.DashScope.Emulator.Tests;

/// <summary>Signed result URLs (expiry, tampering) and the accounting endpoint.</summary>
public sealed class ResultUrlAndStatsTests
{
    private static readonly string Qwen = EmulatorClient.Body("qwen-image", new { prompt = "a cat" });

    private static async Task<string> FinishedUrlAsync(EmulatorClient emu, FakeTimeProvider time)
    {
        var id = await emu.SubmitAsync(EmulatorClient.Text2Image, Qwen);
        time.Advance(TimeSpan.FromMinutes(1));
        var reply = await emu.GetTaskAsync(id);
        return reply.Output.GetProperty("results")[0].GetProperty("url").GetString()!;
    }

    [Fact]
    public async Task ResultUrl_TamperedSignatureOrPath_403()
    {
        var time = new FakeTimeProvider(EmulatorClient.ClockStart);
        await using var emu = await EmulatorClient.StartAsync(o => o.TimeScale = 1, time);
        var url = await FinishedUrlAsync(emu, time);

        var valid = await emu.DownloadAsync(url);
        var badSignature = await emu.DownloadAsync(url[..^6] + "AAAA%3D");
        var otherImage = await emu.DownloadAsync(url.Replace("/0.png", "/1.png", StringComparison.Ordinal));
        var laterExpiry = await emu.DownloadAsync(System.Text.RegularExpressions.Regex.Replace(url, @"Expires=(\d+)", m => "Expires=" + (long.Parse(m.Groups[1].Value) + 1000)));

        Assert.Equal(HttpStatusCode.OK, valid.Status);
        Assert.Equal(HttpStatusCode.Forbidden, badSignature.Status);
        Assert.Contains("SignatureDoesNotMatch", System.Text.Encoding.UTF8.GetString(badSignature.Bytes), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, otherImage.Status);
        Assert.Equal(HttpStatusCode.Forbidden, laterExpiry.Status);
        Assert.Equal(1, emu.Host.Stats.Snapshot().ImagesServed);
    }

    [Fact]
    public async Task ResultUrl_AfterTaskTtl_403Expired()
    {
        var time = new FakeTimeProvider(EmulatorClient.ClockStart);
        await using var emu = await EmulatorClient.StartAsync(o => o.TimeScale = 1, time);
        var url = await FinishedUrlAsync(emu, time);
        time.Advance(TimeSpan.FromHours(23));
        Assert.Equal(HttpStatusCode.OK, (await emu.DownloadAsync(url)).Status);

        time.Advance(TimeSpan.FromHours(1.1));
        var expired = await emu.DownloadAsync(url);

        Assert.Equal(HttpStatusCode.Forbidden, expired.Status);
        Assert.Contains("<Code>AccessDenied</Code>", System.Text.Encoding.UTF8.GetString(expired.Bytes), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResultUrl_ShortUrlTtl_ExpiresEarly()
    {
        var time = new FakeTimeProvider(EmulatorClient.ClockStart);
        await using var emu = await EmulatorClient.StartAsync(o => { o.TimeScale = 1; o.ResultUrlTtl = TimeSpan.FromMinutes(5); }, time);
        var url = await FinishedUrlAsync(emu, time);
        Assert.Equal(HttpStatusCode.OK, (await emu.DownloadAsync(url)).Status);

        time.Advance(TimeSpan.FromMinutes(6));

        Assert.Equal(HttpStatusCode.Forbidden, (await emu.DownloadAsync(url)).Status);
        Assert.NotEqual("UNKNOWN", await emu.StatusAsync(url.Split('/')[^2])); // the task itself still lives
    }

    [Fact]
    public async Task ResultUrl_SubSecondUrlTtl_ExpiresWithinTheSecondItsExpiresNames()
    {
        var time = new FakeTimeProvider(EmulatorClient.ClockStart);
        await using var emu = await EmulatorClient.StartAsync(o => { o.TimeScale = 1; o.ResultUrlTtl = TimeSpan.FromMilliseconds(1); o.Seed = 1; }, time);
        var id = await emu.SubmitAsync(EmulatorClient.Text2Image, Qwen);
        while (await emu.StatusAsync(id) != "SUCCEEDED")
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        var url = (await emu.GetTaskAsync(id)).Output.GetProperty("results")[0].GetProperty("url").GetString()!;
        time.Advance(TimeSpan.FromMilliseconds(2));
        var expires = long.Parse(System.Text.RegularExpressions.Regex.Match(url, @"Expires=(\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

        // The task ended 2-102 ms ago, past the 1 ms URL life, yet the clock is still inside the second that Expires names:
        // only the emulator's exact expiry can refuse the download.
        Assert.Equal(expires, time.GetUtcNow().ToUnixTimeSeconds());
        var download = await emu.DownloadAsync(url);

        Assert.Equal(HttpStatusCode.Forbidden, download.Status);
        Assert.Contains("<Code>AccessDenied</Code>", System.Text.Encoding.UTF8.GetString(download.Bytes), StringComparison.Ordinal);
        Assert.Equal(0, emu.Host.Stats.Snapshot().ImagesServed);
    }

    [Fact]
    public async Task Results_RenderedInBackgroundOnceTheTaskIsAccepted()
    {
        var time = new FakeTimeProvider(EmulatorClient.ClockStart);
        await using var emu = await EmulatorClient.StartAsync(o => o.TimeScale = 1, time);
        var id = await emu.SubmitAsync(EmulatorClient.Text2Image, EmulatorClient.Body("wanx-v1", new { prompt = "x" }, new { n = 4, size = "1024*1024" }));
        var task = emu.Host.Context.Store.Get(id, time.GetUtcNow(), _ => 1)!;

        // The clock stands still: the task is PENDING, and its four images render in the background, no download asked.
        for (var spins = 0; spins < 1000 && !Enumerable.Range(0, 4).All(task.IsRendered); spins++)
        {
            await Task.Delay(10);
        }

        Assert.All(Enumerable.Range(0, 4), i => Assert.True(task.IsRendered(i), $"image {i} not rendered"));
        Assert.Equal("PENDING", await emu.StatusAsync(id));
        time.Advance(TimeSpan.FromMinutes(1));
        var urls = (await emu.GetTaskAsync(id)).Output.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("url").GetString()!).ToList();
        Assert.Equal(0, emu.Host.Stats.Snapshot().ImagesServed);
        var downloads = await Task.WhenAll(urls.Select(emu.DownloadAsync));
        Assert.All(downloads, d => Assert.Equal(HttpStatusCode.OK, d.Status));
        Assert.Equal(4, downloads.Select(d => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(d.Bytes))).Distinct().Count());
    }

    [Fact]
    public async Task Stats_CountsEveryKindOfRequest_SameOnEndpointAndHost()
    {
        var time = new FakeTimeProvider(EmulatorClient.ClockStart);
        await using var emu = await EmulatorClient.StartAsync(o => o.TimeScale = 1, time);
        var wanx = EmulatorClient.Body("wanx-v1", new { prompt = "x" }, new { n = 1 });
        var first = await emu.SubmitAsync(EmulatorClient.Text2Image, wanx);
        var second = await emu.SubmitAsync(EmulatorClient.Text2Image, wanx);
        await emu.PostAsync(EmulatorClient.Text2Image, wanx); // third in the same second: RPS 2
        await emu.PostAsync(EmulatorClient.Text2Image, EmulatorClient.Body("wanx-v1", new { prompt = "x" }, new { n = 9 })); // 429 too
        await emu.CancelAsync(second);
        time.Advance(TimeSpan.FromSeconds(40));
        await emu.GetTaskAsync(first);
        var url = (await emu.GetTaskAsync(first)).Output.GetProperty("results")[0].GetProperty("url").GetString()!;
        await emu.DownloadAsync(url);
        await emu.DownloadAsync(url);

        using var plain = new HttpClient();
        var json = await plain.GetStringAsync(new Uri(emu.Host.RootAddress, "emulator/stats"));
        var stats = JsonSerializer.Deserialize<EmulatorStatsSnapshot>(json)!;
        var host = emu.Host.Stats.Snapshot();

        Assert.Equal(4, stats.Submissions);
        Assert.Equal(4, stats.SubmissionsByModel["wanx-v1"]);
        Assert.Equal(2, stats.Accepted);
        Assert.Equal(2, stats.AcceptedByModel["wanx-v1"]);
        Assert.Equal(2, stats.QueriesByTask[first]);
        Assert.Equal(1, stats.CancelRequests);
        Assert.Equal(1, stats.Canceled);
        Assert.Equal(2, stats.Throttled);
        Assert.Equal(2, stats.ThrottledByKind[EmulatorStats.SubmitRps]);
        Assert.Equal(2, stats.ImagesServed);
        Assert.Equal(stats.Submissions, host.Submissions);
        Assert.Equal(stats.ImagesServed, host.ImagesServed);
        Assert.Contains("\"submissions_by_model\"", json, StringComparison.Ordinal);
    }
}
