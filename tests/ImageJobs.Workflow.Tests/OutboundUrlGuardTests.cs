using System.Net;
using ImageJobs.Workflow.Outbound;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace ImageJobs.Workflow.Tests;

public sealed class OutboundUrlGuardTests
{
    private static OutboundUrlGuard Guard(bool allowPrivate = false, params string[] allowed)
    {
        var options = new OutboundOptions { AllowPrivateNetworks = allowPrivate };
        foreach (var host in allowed)
        {
            options.AllowedHosts.Add(host);
        }

        return new OutboundUrlGuard(options, static (host, _) => Task.FromResult(host switch
        {
            "rebind.example" => new[] { IPAddress.Parse("93.184.216.34"), IPAddress.Parse("10.0.0.7") },
            "public.example" => new[] { IPAddress.Parse("93.184.216.34") },
            "localhost" => new[] { IPAddress.Loopback },
            _ => throw new System.Net.Sockets.SocketException(11001),
        }));
    }

    [Theory]
    [InlineData("http://127.0.0.1/hook", "loopback")]
    [InlineData("http://127.8.9.10/hook", "loopback")]
    [InlineData("http://localhost:8080/hook", "loopback")]
    [InlineData("http://10.1.2.3/hook", "10.0.0.0/8")]
    [InlineData("http://172.16.0.1/hook", "172.16.0.0/12")]
    [InlineData("http://172.31.255.255/hook", "172.16.0.0/12")]
    [InlineData("http://192.168.1.1/hook", "192.168.0.0/16")]
    [InlineData("http://169.254.169.254/latest/meta-data", "metadata")]
    [InlineData("http://169.254.10.10/", "link-local")]
    [InlineData("http://100.100.100.200/", "metadata")]
    [InlineData("http://[::1]/hook", "loopback")]
    [InlineData("http://[fe80::1]/hook", "link-local")]
    [InlineData("http://[fd12:3456::1]/hook", "fc00::/7")]
    [InlineData("http://[::ffff:10.0.0.1]/hook", "10.0.0.0/8")]
    [InlineData("http://[64:ff9b::a9fe:a9fe]/", "metadata")]
    [InlineData("http://0.0.0.0/", "this-network")]
    [InlineData("http://[2002:7f00:1::]/", "loopback")] // 6to4 of 127.0.0.1
    [InlineData("http://[2002:a00:1::1]/", "10.0.0.0/8")] // 6to4 of 10.0.0.1
    [InlineData("http://[2002:a9fe:a9fe::]/", "metadata")] // 6to4 of 169.254.169.254
    [InlineData("http://[::ffff:0:7f00:1]/", "loopback")] // IPv4-translated 127.0.0.1
    [InlineData("http://[::ffff:0:a9fe:a9fe]/", "metadata")] // IPv4-translated 169.254.169.254
    [InlineData("http://[::7f00:1]/", "loopback")] // IPv4-compatible 127.0.0.1
    [InlineData("http://[64:ff9b::7f00:1]/", "loopback")] // NAT64 of 127.0.0.1
    [InlineData("http://[64:ff9b:1:a00:1:100::]/", "10.0.0.0/8")] // local-use NAT64 /48 of 10.0.1.1
    [InlineData("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "loopback")] // Teredo, client ~80ff:fffe = 127.0.0.1
    [InlineData("http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/", "10.0.0.0/8")] // Teredo, client 10.0.0.1
    [InlineData("http://rebind.example/", "10.0.0.0/8")]
    public async Task CheckAsync_NonPublicAddress_RefusedWithReason(string url, string expectedReason)
    {
        var reason = await Guard().CheckAsync(new Uri(url));

        Assert.NotNull(reason);
        Assert.Contains(expectedReason, reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ftp://public.example/file")]
    [InlineData("file:///etc/passwd")]
    [InlineData("http://user:pass@public.example/")]
    public async Task CheckAsync_BadSchemeOrCredentials_Refused(string url)
    {
        Assert.NotNull(await Guard(allowPrivate: true).CheckAsync(new Uri(url)));
    }

    [Fact]
    public async Task CheckAsync_PublicHost_Allowed()
    {
        Assert.Null(await Guard().CheckAsync(new Uri("https://public.example/a.png")));
    }

    [Fact]
    public async Task CheckAsync_UnresolvableHost_Refused()
    {
        Assert.Contains("could not be resolved", await Guard().CheckAsync(new Uri("https://nowhere.invalid/")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckAsync_AllowPrivateNetworks_AllowsLoopbackButNotMetadata()
    {
        var guard = Guard(allowPrivate: true);

        Assert.Null(await guard.CheckAsync(new Uri("http://127.0.0.1:7071/hook")));
        Assert.Null(await guard.CheckAsync(new Uri("http://[::1]/hook")));
        Assert.NotNull(await guard.CheckAsync(new Uri("http://169.254.169.254/")));
    }

    [Theory]
    [InlineData("127.0.0.1", "http://127.0.0.1:9000/x", true)]
    [InlineData("127.0.0.1:9000", "http://127.0.0.1:9000/x", true)]
    [InlineData("127.0.0.1:9001", "http://127.0.0.1:9000/x", false)]
    [InlineData("localhost", "http://localhost/x", true)]
    [InlineData("[::1]", "http://[::1]:80/x", true)]
    [InlineData("*.corp.example", "http://10.0.0.1/x", false)]
    [InlineData("127.0.0.1:9000", "http://localhost:9000/x", true)] // by resolved address
    [InlineData("127.0.0.1:9000", "http://localhost:9001/x", false)]
    [InlineData("localhost:9000", "http://127.0.0.1:9000/x", true)] // the entry's name resolved
    [InlineData("localhost:9000", "http://127.1:9000/x", true)]
    [InlineData("localhost:9000", "http://2130706433:9000/x", true)]
    [InlineData("localhost:9000", "http://[::ffff:127.0.0.1]:9000/x", true)]
    [InlineData("localhost:9000", "http://10.0.0.1:9000/x", false)]
    [InlineData("[::1]:9000", "http://127.0.0.1:9000/x", true)]
    [InlineData("127.0.0.1:9000", "http://[2002:7f00:1::]:9000/x", false)] // an embedded address is judged, not matched
    public async Task CheckAsync_AllowedHosts_MatchExactlyIncludingPort(string entry, string url, bool allowed)
    {
        var reason = await Guard(false, entry).CheckAsync(new Uri(url));

        Assert.Equal(allowed, reason is null);
    }

    [Fact]
    public async Task Handler_RedirectToLoopback_RefusedAtTheHop()
    {
        // A real server on loopback, reached through the allow-list, that redirects to another loopback port
        // which is not allow-listed: the second hop must be refused.
        await using var app = await StartAsync(ctx =>
        {
            ctx.Response.Redirect("http://127.0.0.2:1/secret");
            return Task.CompletedTask;
        });
        var guard = new OutboundUrlGuard(new OutboundOptions { AllowedHosts = { "127.0.0.1" } });
        using var client = new HttpClient(guard.CreateHandler());

        var ex = await Assert.ThrowsAsync<OutboundUrlRefusedException>(() => client.GetAsync(new Uri(app.Urls.First() + "/start")));
        Assert.Contains("127.0.0.2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Handler_LoopbackWithoutAllowList_RefusedAtConnect()
    {
        await using var app = await StartAsync(ctx => ctx.Response.WriteAsync("secret"));
        var guard = new OutboundUrlGuard(new OutboundOptions());
        using var client = new HttpClient(guard.CreateHandler());

        var ex = await Assert.ThrowsAsync<OutboundUrlRefusedException>(() => client.GetStringAsync(new Uri(app.Urls.First())));
        Assert.Contains("loopback", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Handler_AllowedRedirectChain_FollowsAndReturnsFinalBody()
    {
        await using var app = await StartAsync(ctx =>
        {
            if (ctx.Request.Path == "/final")
            {
                return ctx.Response.WriteAsync("done");
            }

            ctx.Response.Redirect("/final");
            return Task.CompletedTask;
        });
        var guard = new OutboundUrlGuard(new OutboundOptions { AllowPrivateNetworks = true });
        using var client = new HttpClient(guard.CreateHandler());

        Assert.Equal("done", await client.GetStringAsync(new Uri(app.Urls.First() + "/start")));
    }

    [Fact]
    public async Task Guard_NameResolvingToAMetadataAddress_IsNotAllowedByANameEntry()
    {
        var guard = new OutboundUrlGuard(new OutboundOptions { AllowedHosts = { "metadata.example" } },
            static (_, _) => Task.FromResult(new[] { IPAddress.Parse("169.254.169.254") }));

        Assert.False(await guard.IsAllowListedAddressAsync(IPAddress.Parse("169.254.169.254"), 80));
        Assert.True(await new OutboundUrlGuard(new OutboundOptions { AllowedHosts = { "169.254.169.254" } }).IsAllowListedAddressAsync(IPAddress.Parse("169.254.169.254"), 80));
    }

    [Theory]
    [InlineData(307)]
    [InlineData(308)]
    [InlineData(302)]
    public async Task Handler_PostRedirectedToAnotherHost_IsRefusedAndTheBodyNeverLeaves(int status)
    {
        var received = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var other = await StartAsync(async ctx => received.Enqueue(await ReadBodyAsync(ctx)));
        await using var first = await StartAsync(ctx => Redirect(ctx, status, other.Urls.First() + "/hook"));
        var guard = new OutboundUrlGuard(new OutboundOptions { AllowPrivateNetworks = true });
        using var client = new HttpClient(guard.CreateHandler());

        var ex = await Assert.ThrowsAsync<OutboundUrlRefusedException>(() => client.PostAsync(new Uri(first.Urls.First() + "/hook"), new StringContent("signed")));

        Assert.Contains("another host", ex.Message, StringComparison.Ordinal);
        Assert.Empty(received);
    }

    [Fact]
    public async Task Handler_PostRedirectedToAnotherHost_IsFollowedWhenConfigured()
    {
        var received = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var other = await StartAsync(async ctx => received.Enqueue(await ReadBodyAsync(ctx)));
        await using var first = await StartAsync(ctx => Redirect(ctx, 307, other.Urls.First() + "/hook"));
        var guard = new OutboundUrlGuard(new OutboundOptions { AllowPrivateNetworks = true, RedirectBodiesToOtherHosts = true });
        using var client = new HttpClient(guard.CreateHandler());

        using var response = await client.PostAsync(new Uri(first.Urls.First() + "/hook"), new StringContent("signed"));

        Assert.True(response.IsSuccessStatusCode);
        Assert.Equal("signed", Assert.Single(received));
    }

    [Fact]
    public async Task Handler_PostRedirectedOnTheSameHost_IsFollowed()
    {
        var received = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var app = await StartAsync(async ctx =>
        {
            if (ctx.Request.Path == "/final")
            {
                received.Enqueue(await ReadBodyAsync(ctx));
                return;
            }

            await Redirect(ctx, 307, "/final");
        });
        var guard = new OutboundUrlGuard(new OutboundOptions { AllowPrivateNetworks = true });
        using var client = new HttpClient(guard.CreateHandler());

        using var response = await client.PostAsync(new Uri(app.Urls.First() + "/start"), new StringContent("signed"));

        Assert.True(response.IsSuccessStatusCode);
        Assert.Equal("signed", Assert.Single(received));
    }

    private static async Task<string> ReadBodyAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        return await reader.ReadToEndAsync();
    }

    private static Task Redirect(HttpContext context, int status, string location)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.Location = location;
        return Task.CompletedTask;
    }

    private static async Task<WebApplication> StartAsync(RequestDelegate handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.Run(handler);
        await app.StartAsync();
        return app;
    }
}
