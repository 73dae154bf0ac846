using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ImageJobs.DashScope.Tests;

/// <summary>Headers, routing, compression, validation switch, options and DI.</summary>
public class ClientTests
{
    private static readonly string s_pending = Golden.Text("Responses/003_qwen-image_submit_pending.json");

    [Fact]
    public async Task SubmitAsync_AnyModel_SendsBearerKeyAndAsyncHeader()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(s_pending));
        await TestClients.Create(server).SubmitAsync(new WanxTextToImageRequest("cat") { N = 1 });
        var sent = Assert.Single(server.Requests);
        Assert.Equal("Bearer " + TestClients.ApiKey, sent.Header("Authorization"));
        Assert.Equal("enable", sent.Header("X-DashScope-Async"));
        Assert.Null(sent.Header("X-DashScope-WorkSpace"));
        Assert.Null(sent.Header("X-DashScope-DataInspection"));
    }

    [Fact]
    public async Task GenerateAsync_SyncCall_SendsNoAsyncHeader()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(Golden.Text("Responses/003_qwen-image_sync_succeeded.json")));
        await TestClients.Create(server).GenerateAsync(new QwenImageRequest("cat"));
        var sent = Assert.Single(server.Requests);
        Assert.Null(sent.Header("X-DashScope-Async"));
        Assert.Equal("Bearer " + TestClients.ApiKey, sent.Header("Authorization"));
    }

    [Fact]
    public async Task TaskQueries_GetCancelList_SendNoAsyncHeader()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(Golden.Text("Responses/spec_list.json")));
        var client = TestClients.Create(server);
        await client.GetTaskAsync("t");
        await client.CancelTaskAsync("t");
        await client.ListTasksAsync();
        Assert.Equal(3, server.Requests.Count);
        foreach (var sent in server.Requests)
        {
            Assert.Null(sent.Header("X-DashScope-Async"));
            Assert.Equal("Bearer " + TestClients.ApiKey, sent.Header("Authorization"));
        }

        Assert.Equal(["GET /api/v1/tasks/t", "POST /api/v1/tasks/t/cancel", "GET /api/v1/tasks"], server.Requests.Select(r => r.Method + " " + r.Path));
    }

    [Fact]
    public async Task AllCalls_WorkspaceSet_SendWorkspaceHeader()
    {
        await using var server = await LoopbackServer.StartAsync(r => CannedResponse.Json(
            r.Path.Contains("multimodal", StringComparison.Ordinal) ? Golden.Text("Responses/003_qwen-image_sync_succeeded.json") : s_pending));
        var client = TestClients.Create(server, o => o.WorkspaceId = "llm-abc123");
        await client.SubmitAsync(new QwenImageRequest("cat"));
        await client.GenerateAsync(new QwenImageRequest("cat"));
        await client.GetTaskAsync("t");
        Assert.Equal(3, server.Requests.Count);
        Assert.All(server.Requests, r => Assert.Equal("llm-abc123", r.Header("X-DashScope-WorkSpace")));
    }

    [Fact]
    public async Task SubmitAsync_DataInspectionEnabled_SendsHeaderOnSubmitOnly()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(s_pending));
        var client = TestClients.Create(server, o => o.EnableDataInspection = true);
        await client.SubmitAsync(new QwenImageRequest("cat"));
        await client.GetTaskAsync("t");
        var requests = server.Requests.ToArray();
        Assert.Equal("enable", requests[0].Header("X-DashScope-DataInspection"));
        Assert.Null(requests[1].Header("X-DashScope-DataInspection"));
    }

    [Theory]
    [InlineData(DashScopeModels.WanxV1, "text2image")]
    [InlineData(DashScopeModels.QwenImage, "text2image")]
    [InlineData(DashScopeModels.QwenImagePlus, "text2image")]
    [InlineData(DashScopeModels.WanxImageEdit, "image2image")]
    [InlineData(DashScopeModels.Wan25ImageToImagePreview, "image2image")]
    public async Task SubmitAsync_Model_RoutesToItsEndpoint(string model, string kind)
    {
        DashScopeImageRequest request = model switch
        {
            DashScopeModels.WanxV1 => new WanxTextToImageRequest("x"),
            DashScopeModels.WanxImageEdit => new WanxImageEditRequest(WanxImageEditFunctions.Colorization, "x", "https://e.com/a.png"),
            DashScopeModels.Wan25ImageToImagePreview => new WanImageToImageRequest("x", ["https://e.com/a.png"]),
            _ => new QwenImageRequest("x", model),
        };
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(s_pending));
        await TestClients.Create(server).SubmitAsync(request);
        Assert.Equal($"/api/v1/services/aigc/{kind}/image-synthesis", Assert.Single(server.Requests).Path);
    }

    [Fact]
    public async Task SubmitAsync_InvalidRequest_ThrowsBeforeAnyHttpRequest()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(s_pending));
        var ex = await Assert.ThrowsAsync<DashScopeValidationException>(
            () => TestClients.Create(server).SubmitAsync(new WanxTextToImageRequest("cat") { N = 9, Style = "<nope>" }));
        Assert.Equal(["parameters.style", "parameters.n"], ex.Errors.Select(e => e.Field));
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task GenerateAsync_InvalidRequest_ThrowsBeforeAnyHttpRequest()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(s_pending));
        var ex = await Assert.ThrowsAsync<DashScopeValidationException>(
            () => TestClients.Create(server).GenerateAsync(new QwenImageRequest("cat") { N = 2 }));
        Assert.Equal("parameters.n", Assert.Single(ex.Errors).Field);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task SubmitAsync_ValidationOff_SendsInvalidRequestUnchanged()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(s_pending));
        var client = TestClients.Create(server, o => o.ValidateRequests = false);
        var request = DashScopeImageRequest.Parse("""{"model":"wanx-v2-future","input":{"prompt":"x","images":["https://e.com/a.png"]},"parameters":{"n":9}}""");
        await client.SubmitAsync(request);
        var sent = Assert.Single(server.Requests);
        Assert.Equal("/api/v1/services/aigc/image2image/image-synthesis", sent.Path);
        Assert.Equal(request.ToJsonString(), sent.Body);
    }

    [Fact]
    public async Task GenerateAsync_NonQwenModel_ThrowsArgumentException()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(s_pending));
        await Assert.ThrowsAsync<ArgumentException>(() => TestClients.Create(server).GenerateAsync(new WanxTextToImageRequest("x")));
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task SubmitAsync_SyncShapedRawRequest_ThrowsArgumentException()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(s_pending));
        var request = DashScopeImageRequest.FromJson(Golden.Object("Requests/003_qwen-image-plus_sync_multimodal.json"));
        Assert.True(request.IsSynchronousCall);
        await Assert.ThrowsAsync<ArgumentException>(() => TestClients.Create(server).SubmitAsync(request));
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task GetTaskAsync_GzipBodyWithPlainHttpClient_IsDecompressed()
    {
        await using var server = await LoopbackServer.StartAsync(new CannedResponse { Body = Golden.Text("Responses/003_qwen-image_succeeded.json"), Gzip = true });
        var task = await TestClients.Create(server).GetTaskAsync("t");
        Assert.Equal(DashScopeTaskStatus.Succeeded, task.Status);
        Assert.Contains("gzip", Assert.Single(server.Requests).Header("Accept-Encoding"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetTaskAsync_GzipBodyWithConvenienceConstructor_IsDecompressedByHandler()
    {
        await using var server = await LoopbackServer.StartAsync(new CannedResponse { Body = Golden.Text("Responses/003_qwen-image_succeeded.json"), Gzip = true });
        var client = new DashScopeClient(TestClients.Options(server));
        var task = await client.GetTaskAsync("t");
        Assert.Single(task.ImageUrls);
    }

    [Fact]
    public async Task GetTaskAsync_ErrorBodyGzipped_StillParsesCode()
    {
        await using var server = await LoopbackServer.StartAsync(new CannedResponse
        {
            Status = 429,
            Body = """{"code":"Throttling","message":"Requests throttling triggered.","request_id":"r"}""",
            Gzip = true,
        });
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => TestClients.Create(server).GetTaskAsync("t"));
        Assert.Equal(("Throttling", true), (ex.Code, ex.IsRetryable));
    }

    [Fact]
    public async Task SubmitPollResult_AgainstLoopback_YieldsResultUrls()
    {
        var polls = 0;
        await using var server = await LoopbackServer.StartAsync(r =>
        {
            if (r.Method == "POST")
            {
                return CannedResponse.Json(s_pending);
            }

            return CannedResponse.Json(Interlocked.Increment(ref polls) < 3
                ? Golden.Text("Responses/spec_running.json")
                : Golden.Text("Responses/spec_partial_failure.json"));
        });
        var client = TestClients.Create(server);
        var submission = await client.SubmitAsync(new WanxTextToImageRequest("cat") { N = 4 });
        DashScopeTask task;
        do
        {
            task = await client.GetTaskAsync(submission.TaskId);
        }
        while (!task.Status.IsTerminal);

        Assert.Equal(3, polls);
        Assert.Equal(2, task.ImageUrls.Count);
        Assert.All(task.ImageUrls, url => Assert.True(DashScopeResultHosts.IsResultUrl(new Uri(url))));
    }

    // ---- options, key, DI ----

    [Fact]
    public void Options_ToString_HidesApiKey()
    {
        var options = new DashScopeClientOptions { ApiKey = TestClients.ApiKey, WorkspaceId = "llm-1" };
        var text = options.ToString();
        Assert.DoesNotContain(TestClients.ApiKey, text, StringComparison.Ordinal);
        Assert.Contains("ApiKey = ***", text, StringComparison.Ordinal);
        Assert.Contains("llm-1", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "https://dashscope.aliyuncs.com/api/v1")]
    [InlineData("beijing", "https://dashscope.aliyuncs.com/api/v1")]
    [InlineData("Singapore", "https://dashscope-intl.aliyuncs.com/api/v1")]
    [InlineData("ap-southeast-1", "https://dashscope-intl.aliyuncs.com/api/v1")]
    public void Options_Region_ResolvesBaseUrl(string? region, string expected) =>
        Assert.Equal(expected, new DashScopeClientOptions { Region = region }.GetEndpoint().AbsoluteUri);

    [Fact]
    public void Options_EndpointWithTrailingSlash_WinsOverRegionAndIsTrimmed()
    {
        var options = new DashScopeClientOptions { Region = "singapore", Endpoint = new Uri("http://127.0.0.1:5000/api/v1/") };
        Assert.Equal("http://127.0.0.1:5000/api/v1", options.GetEndpoint().AbsoluteUri.TrimEnd('/'));
        var client = new DashScopeClient(new HttpClient(), new DashScopeClientOptions { Endpoint = options.Endpoint, ApiKey = "k" });
        Assert.Equal("http://127.0.0.1:5000/api/v1", client.Endpoint.AbsoluteUri);
    }

    [Fact]
    public void Options_UnknownRegion_ThrowsWithAllowedNames()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new DashScopeClientOptions { Region = "mars" }.GetEndpoint());
        Assert.Contains("'beijing' or 'singapore'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_NoKeyAnywhere_ThrowsNamingEnvironmentVariable()
    {
        if (Environment.GetEnvironmentVariable(DashScopeClientOptions.ApiKeyEnvironmentVariable) is not null)
        {
            return; // the machine has a key; the rule cannot be exercised here
        }

        var ex = Assert.Throws<InvalidOperationException>(() => new DashScopeClient(new HttpClient(), new DashScopeClientOptions()));
        Assert.Contains("DASHSCOPE_API_KEY", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddDashScopeClient_ConfigurationSection_BindsOptionsAndSendsThroughFactory()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(Golden.Text("Responses/spec_unknown.json")));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DashScope:Endpoint"] = server.BaseUri.AbsoluteUri,
            ["DashScope:WorkspaceId"] = "llm-ws",
            ["DashScope:NetworkTimeout"] = "00:00:30",
            ["DashScope:ValidateRequests"] = "false",
            ["DASHSCOPE_API_KEY"] = "sk-from-configuration",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddDashScopeClient(configuration.GetSection("DashScope"));
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<DashScopeClientOptions>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(30), options.NetworkTimeout);
        Assert.False(options.ValidateRequests);
        var client = provider.GetRequiredService<DashScopeClient>();
        var task = await client.GetTaskAsync("t");
        Assert.Equal(DashScopeTaskStatus.Unknown, task.Status);
        var sent = Assert.Single(server.Requests);
        Assert.Equal("Bearer sk-from-configuration", sent.Header("Authorization"));
        Assert.Equal("llm-ws", sent.Header("X-DashScope-WorkSpace"));
    }

    [Fact]
    public async Task AddDashScopeClient_Action_ConfiguresOptions()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(Golden.Text("Responses/spec_unknown.json")));
        var services = new ServiceCollection();
        services.AddDashScopeClient(o =>
        {
            o.Endpoint = server.BaseUri;
            o.ApiKey = "sk-action";
        });
        await using var provider = services.BuildServiceProvider();
        await provider.GetRequiredService<DashScopeClient>().GetTaskAsync("t");
        Assert.Equal("Bearer sk-action", Assert.Single(server.Requests).Header("Authorization"));
    }

    [Fact]
    public void AddDashScopeClient_BadRegion_FailsOptionsValidationWithMessage()
    {
        var services = new ServiceCollection();
        services.AddDashScopeClient(o =>
        {
            o.Region = "mars";
            o.ApiKey = "k";
        });
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<DashScopeClientOptions>>().Value);
        Assert.Contains("Region", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_IsMockable_VirtualMembersOverridable()
    {
        var fake = new FakeClient();
        var task = await fake.GetTaskAsync("t");
        Assert.Equal(DashScopeTaskStatus.Succeeded, task.Status);
        Assert.Equal("https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/x.png", Assert.Single(task.ImageUrls));
    }

    private sealed class FakeClient : DashScopeClient
    {
        public override Task<DashScopeTask> GetTaskAsync(string taskId, CancellationToken cancellationToken = default) =>
            Task.FromResult(DashScopeModelFactory.Task(
                taskId,
                DashScopeTaskStatus.Succeeded,
                [DashScopeModelFactory.ImageResult("https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/x.png"), DashScopeModelFactory.ImageResult(code: "DataInspectionFailed")]));
    }
}
