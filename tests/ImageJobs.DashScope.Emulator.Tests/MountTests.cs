using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ImageJobs.DashScope.Emulator.Tests;

/// <summary>The emulator mounted inside another ASP.NET Core app, behind a path base.</summary>
public sealed class MountTests
{
    [Fact]
    public async Task MapDashScopeEmulator_UnderPathBase_SubmitPollDownloadWork()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddDashScopeEmulator(new DashScopeEmulatorOptions { TimeScale = 0.002, ApiKey = "sk-host" });
        await using var app = builder.Build();
        app.UsePathBase("/dashscope");
        app.MapGet("/hello", () => "host route");
        app.MapDashScopeEmulator();
        await app.StartAsync();
        var root = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(root + "/dashscope/api/v1/") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "sk-host");

        using var submit = new HttpRequestMessage(HttpMethod.Post, EmulatorClient.Text2Image)
        {
            Content = new StringContent(EmulatorClient.Body("qwen-image", new { prompt = "mounted" }), Encoding.UTF8, "application/json"),
        };
        submit.Headers.Add("X-DashScope-Async", "enable");
        using var submitted = await http.SendAsync(submit);
        var id = (await Reply.ReadAsync(submitted)).Output.GetProperty("task_id").GetString();
        JsonElement output = default;
        for (var i = 0; i < 3000; i++)
        {
            using var poll = await http.GetAsync($"tasks/{id}");
            output = (await Reply.ReadAsync(poll)).Output;
            if (output.GetProperty("task_status").GetString() == "SUCCEEDED")
            {
                break;
            }

            await Task.Delay(10);
        }

        var url = output.GetProperty("results")[0].GetProperty("url").GetString()!;
        using var plain = new HttpClient();
        using var image = await plain.GetAsync(new Uri(url));

        Assert.Contains("/dashscope/results/", url, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal((1328, 1328), EmulatorClient.PngSize(await image.Content.ReadAsByteArrayAsync()));
        Assert.Equal("host route", await plain.GetStringAsync(new Uri(root + "/dashscope/hello")));
        Assert.Equal(1, app.Services.GetRequiredService<EmulatorStats>().Snapshot().ImagesServed);
        await app.StopAsync();
    }
}
