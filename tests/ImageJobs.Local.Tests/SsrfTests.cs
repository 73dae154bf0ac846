using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Testing;
using ImageJobs.Workflow.Jobs;

namespace ImageJobs.Local.Tests;

/// <summary>
/// Webhook and input URLs that point at loopback, private ranges, link-local or cloud metadata are refused at submission
/// (400 naming the field) unless allow-listed; nothing is started or paid for.
/// </summary>
public sealed class SsrfTests(SsrfTests.Fixture fixture) : IClassFixture<SsrfTests.Fixture>
{
    public sealed class Fixture : AppFixture
    {
        // Private networks are NOT allowed here; only the emulator and the webhook receiver are allow-listed.
        protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["ImageJobs:Outbound:AllowedHosts:1"] = Webhooks.Url.Authority,
        };
    }

    public static TheoryData<string> InternalUrls => new()
    {
        "http://127.0.0.1/hook",
        "http://127.1.2.3:8080/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://10.255.255.254:443/hook",
        "http://172.16.0.1/hook",
        "http://172.31.255.254/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://2130706433/hook",
        "http://0x7f.0.0.1/hook",
        "http://[2002:7f00:1::]/hook",
        "http://[2002:a9fe:a9fe::]/latest/meta-data/",
        "http://[::ffff:0:7f00:1]/hook",
        "http://[64:ff9b::a00:1]/hook",
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook",
    };

    [Theory]
    [MemberData(nameof(InternalUrls))]
    public async Task Webhook_InternalAddress_Is400NamingTheField(string url)
    {
        var job = Job("wanx-v1", new JsonObject { ["prompt"] = "a cat" });
        job["notify"] = new JsonObject { ["webhookUrl"] = url };
        await AssertRefusedAsync(job, "notify.webhookUrl");
    }

    [Theory]
    [MemberData(nameof(InternalUrls))]
    public async Task InputImage_InternalAddress_Is400NamingTheField(string url)
    {
        await AssertRefusedAsync(Job("wanx2.1-imageedit", new JsonObject { ["function"] = "stylization_all", ["prompt"] = "a", ["base_image_url"] = url }), "input.base_image_url");
        await AssertRefusedAsync(Job("wan2.5-i2i-preview", new JsonObject { ["prompt"] = "a", ["images"] = new JsonArray("blob:inputs/a.png", url) }), "input.images[1]");
    }

    [Fact]
    public async Task Webhook_AllowListedLoopbackReceiver_IsAcceptedAndDelivered()
    {
        var job = Job("wanx-v1", new JsonObject { ["prompt"] = "a cat" });
        job["notify"] = new JsonObject { ["webhookUrl"] = fixture.Webhooks.Url.AbsoluteUri };
        var id = await fixture.App.StartJobAsync(job);
        await fixture.App.WaitForJobAsync(id);
        await Eventually.GetAsync(() => fixture.Webhooks.Deliveries.FirstOrDefault(d => d.Id?.StartsWith(id, StringComparison.Ordinal) == true), "the allow-listed webhook");
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://10.0.0.1/hook")]
    public async Task Webhook_RedirectToInternalAddress_IsNotFollowedAndTheJobStillSucceeds(string target)
    {
        var redirect = new Uri(fixture.Webhooks.Url, "/redirect?to=" + Uri.EscapeDataString(target));
        var job = Job("wanx-v1", new JsonObject { ["prompt"] = "a cat" });
        job["notify"] = new JsonObject { ["webhookUrl"] = redirect.AbsoluteUri };
        var id = await fixture.App.StartJobAsync(job);

        var result = await fixture.App.WaitForJobAsync(id);

        Assert.Equal(Workflow.Jobs.JobStatus.Succeeded, result.Status);
        var attempts = fixture.Webhooks.Deliveries.Count(d => d.Id?.StartsWith(id, StringComparison.Ordinal) == true);
        Assert.Equal(1, attempts); // a refused hop is not retried
        Assert.Contains(fixture.App.Logs.Entries, e => e.Contains(id, StringComparison.Ordinal) && e.Contains("refused", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Webhook_RedirectToAnotherHost_IsNotFollowedWithTheSignedBody_AndTheJobSucceeds()
    {
        // Private networks allowed, so only the redirect rule stands between the signed body and the other receiver.
        await using var other = await WebhookReceiver.StartAsync();
        await using var app = await TestApp.StartAsync(fixture.Azurite, settings: new Dictionary<string, string?> { ["ImageJobs:Outbound:AllowPrivateNetworks"] = "true" });
        var job = Job("wanx-v1", new JsonObject { ["prompt"] = "a cat" });
        job["notify"] = new JsonObject { ["webhookUrl"] = new Uri(fixture.Webhooks.Url, "/redirect?to=" + Uri.EscapeDataString(other.Url.AbsoluteUri)).AbsoluteUri };
        var id = await app.StartJobAsync(job);

        var result = await app.WaitForJobAsync(id);

        Assert.Equal(Workflow.Jobs.JobStatus.Succeeded, result.Status);
        Assert.Equal(1, fixture.Webhooks.Deliveries.Count(d => d.Id?.StartsWith(id, StringComparison.Ordinal) == true)); // the redirect, once
        Assert.Empty(other.Deliveries);
        Assert.Contains(app.Logs.Entries, e => e.Contains(id, StringComparison.Ordinal) && e.Contains("another host", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Webhook_MetadataEndpoint_IsRefusedEvenWhenPrivateNetworksAreAllowed()
    {
        await using var azurite = new AzuriteFixture();
        await azurite.InitializeAsync();
        await using var app = await TestApp.StartAsync(azurite, settings: new Dictionary<string, string?> { ["ImageJobs:Outbound:AllowPrivateNetworks"] = "true" });
        var job = Job("wanx-v1", new JsonObject { ["prompt"] = "a cat" });
        job["notify"] = new JsonObject { ["webhookUrl"] = "http://169.254.169.254/metadata/instance" };
        using var response = await app.PostJobAsync(job);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
        Assert.True(JsonNode.Parse(body)!["errors"]!.AsObject().ContainsKey("notify.webhookUrl"), body);

        job["notify"] = new JsonObject { ["webhookUrl"] = "http://10.1.2.3/hook" };
        using var allowed = await app.PostJobAsync(job);
        Assert.Equal(HttpStatusCode.Accepted, allowed.StatusCode);
    }

    private static JsonObject Job(string model, JsonObject input) => new()
    {
        ["jobId"] = $"ssrf-{Guid.NewGuid():N}",
        ["model"] = model,
        ["input"] = input,
        ["parameters"] = new JsonObject { ["n"] = 1 },
    };

    private async Task AssertRefusedAsync(JsonObject job, string field)
    {
        var before = fixture.App.Emulator.Stats.Snapshot().Submissions;
        using var response = await fixture.App.PostJobAsync(job);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = JsonNode.Parse(body)!["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(field), $"The problem does not name '{field}': {body}");
        Assert.Contains("refused", errors[field]![0]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Null(await fixture.App.Client.GetInstanceAsync(job["jobId"]!.GetValue<string>()));
        Assert.Equal(before, fixture.App.Emulator.Stats.Snapshot().Submissions);
    }
}
