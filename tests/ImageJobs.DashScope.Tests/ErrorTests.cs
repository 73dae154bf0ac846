using System.Globalization;
using System.Text.Json;

namespace ImageJobs.DashScope.Tests;

/// <summary>Every row of the spec's error table reaches the caller as the right <see cref="DashScopeException"/>.</summary>
public class ErrorTests
{
    public static TheoryData<int, string, string, bool> ErrorTable() => new()
    {
        { 400, "InvalidParameter", "num_images_per_prompt must be 1", false },
        { 400, "BadRequest.EmptyInput", "Required input parameter missing from request.", false },
        { 400, "BadRequest.EmptyParameters", "Required parameter \"parameters\" missing from request.", false },
        { 400, "BadRequest.EmptyModel", "Required parameter \"model\" missing from request.", false },
        { 400, "InvalidURL", "Invalid URL provided in your request.", false },
        { 400, "BadRequest.InputDownloadFailed", "Failed to download the input file.", false },
        { 400, "DataInspectionFailed", "Input data may contain inappropriate content.", false },
        { 400, "IPInfringementSuspect", "Input data is suspected of being involved in IP infringement.", false },
        { 400, "Arrearage", "Access denied, please make sure your account is in good standing.", false },
        { 400, "UnsupportedOperation", "Failed to cancel the task, please confirm if the task is in PENDING status.", false },
        { 401, "InvalidApiKey", "Invalid API-key provided.", false },
        { 401, "InvalidApiKey", "No API-key provided.", false },
        { 403, "AccessDenied", "current user api does not support synchronous calls", false },
        { 403, "AccessDenied", "Access denied.", false },
        { 403, "AccessDenied.Unpurchased", "Access to model denied. Please make sure you are eligible for using the model.", false },
        { 403, "Model.AccessDenied", "Model access denied.", false },
        { 403, "Workspace.AccessDenied", "Workspace access denied.", false },
        { 404, "ModelNotFound", "Model not found (wanx-v9)!", false },
        { 404, "WorkSpaceNotFound", "WorkSpace can not be found.", false },
        { 404, "NotFound", "Not found!", false },
        { 429, "Throttling", "Requests throttling triggered.", true },
        { 429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later.", true },
        { 429, "Throttling.BurstRate", "Request rate increased too quickly. To ensure system stability, please adjust your client logic to scale requests more smoothly over time.", true },
        { 429, "Throttling.AllocationQuota", "Allocated quota exceeded, please increase your quota limit.", true },
        { 429, "Throttling.AllocationQuota", "Free allocated quota exceeded.", false },
        { 500, "InternalError", "An internal error has occured, please try again later or contact service support.", true },
        { 500, "InternalError.Algo", "An internal error has occured during execution, please try again later or contact service support.", true },
        { 500, "InternalError.Timeout", "An internal timeout error has occured during execution, please try again later or contact service support.", true },
        { 500, "SystemError", "An system error has occured, please try again later.", true },
        { 500, "ModelServiceFailed", "Failed to request model service.", true },
        { 503, "ModelUnavailable", "Model is unavailable, please try again later.", true },
        { 503, "ModelServingError", "Too many requests. Your requests are being throttled due to system capacity limits.", true },
    };

    [Theory]
    [MemberData(nameof(ErrorTable))]
    public async Task GetTaskAsync_ErrorTableRow_ThrowsDashScopeExceptionWithCodeStatusAndRetryability(int status, string code, string message, bool retryable)
    {
        var body = JsonSerializer.Serialize(new Dictionary<string, string> { ["request_id"] = "req-" + code, ["code"] = code, ["message"] = message });
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(body, status));
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => TestClients.Create(server).GetTaskAsync("t"));
        Assert.Equal(status, ex.Status);
        Assert.Equal(code, ex.Code);
        Assert.Equal("req-" + code, ex.RequestId);
        Assert.Equal(retryable, ex.IsRetryable);
        Assert.Null(ex.RetryAfter);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
        Assert.Contains(status.ToString(CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ErrorTable))]
    public async Task SubmitAsync_ErrorTableRow_ThrowsSameClassification(int status, string code, string message, bool retryable)
    {
        var body = JsonSerializer.Serialize(new Dictionary<string, string> { ["request_id"] = "r", ["code"] = code, ["message"] = message });
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(body, status));
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => TestClients.Create(server).SubmitAsync(new QwenImageRequest("cat")));
        Assert.Equal((status, code, retryable), (ex.Status, ex.Code, ex.IsRetryable));
    }

    [Fact]
    public async Task SubmitAsync_InvalidApiKeySeed003_ThrowsWithSeedMessage()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(Golden.Text("Responses/003_qwen-image_submit_error_invalid_api_key.json"), 401));
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => TestClients.Create(server).SubmitAsync(new QwenImageRequest("cat")));
        Assert.Equal((401, "InvalidApiKey", "fb53c4ec-1c12-4fc4-a580-xxxxxx", false), (ex.Status, ex.Code, ex.RequestId, ex.IsRetryable));
        Assert.Contains("Invalid API-key provided.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GenerateAsync_SyncErrorSeed003_ThrowsInvalidParameter()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(Golden.Text("Responses/003_qwen-image_sync_error.json"), 400));
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => TestClients.Create(server).GenerateAsync(new QwenImageRequest("cat")));
        Assert.Equal((400, "InvalidParameter", false), (ex.Status, ex.Code, ex.IsRetryable));
        Assert.Contains("num_images_per_prompt must be 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetTaskAsync_429WithRetryAfterSeconds_SetsRetryAfter()
    {
        await using var server = await LoopbackServer.StartAsync(new CannedResponse
        {
            Status = 429,
            Body = """{"code":"Throttling.RateQuota","message":"Requests rate limit exceeded, please try again later.","request_id":"r"}""",
            Headers = { ["Retry-After"] = "7" },
        });
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => TestClients.Create(server).GetTaskAsync("t"));
        Assert.Equal(TimeSpan.FromSeconds(7), ex.RetryAfter);
        Assert.True(ex.IsRetryable);
    }

    [Fact]
    public async Task GetTaskAsync_503WithRetryAfterDate_SetsRetryAfterFromDate()
    {
        var date = DateTimeOffset.UtcNow.AddHours(1).ToString("R", CultureInfo.InvariantCulture);
        await using var server = await LoopbackServer.StartAsync(new CannedResponse
        {
            Status = 503,
            Body = """{"code":"ModelUnavailable","message":"Model is unavailable, please try again later.","request_id":"r"}""",
            Headers = { ["Retry-After"] = date },
        });
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => TestClients.Create(server).GetTaskAsync("t"));
        Assert.NotNull(ex.RetryAfter);
        Assert.InRange(ex.RetryAfter!.Value, TimeSpan.FromMinutes(50), TimeSpan.FromMinutes(61));
        Assert.True(ex.IsRetryable);
    }

    [Fact]
    public async Task GetTaskAsync_502HtmlBody_ThrowsWithStatusAndSnippet()
    {
        await using var server = await LoopbackServer.StartAsync(new CannedResponse
        {
            Status = 502,
            ContentType = "text/html",
            Body = "<html><body><h1>502 Bad Gateway</h1></body></html>",
        });
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => TestClients.Create(server).GetTaskAsync("t"));
        Assert.Equal(502, ex.Status);
        Assert.True(ex.IsRetryable);
        Assert.Contains("502 Bad Gateway", ex.Message, StringComparison.Ordinal);
        Assert.IsNotType<JsonException>(ex.InnerException);
    }

    [Fact]
    public async Task GetTaskAsync_200NonJsonBody_ThrowsInvalidResponseWithSnippet()
    {
        await using var server = await LoopbackServer.StartAsync(new CannedResponse { Status = 200, ContentType = "text/plain", Body = "upstream says hello" });
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => TestClients.Create(server).GetTaskAsync("t"));
        Assert.Equal((200, DashScopeErrorCodes.InvalidResponse), (ex.Status, ex.Code));
        Assert.Contains("upstream says hello", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetTaskAsync_TruncatedJson_ThrowsInvalidResponseNotJsonException()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json("""{"request_id":"r","output":{"task_id":"t","task_sta"""));
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => TestClients.Create(server).GetTaskAsync("t"));
        Assert.Equal((200, DashScopeErrorCodes.InvalidResponse, true), (ex.Status, ex.Code, ex.IsRetryable));
        Assert.Contains("\"task_sta", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmitAsync_TruncatedJson_IsNotRetryableBecauseTaskMayExist()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json("""{"output":{"task_status":"PEND"""));
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => TestClients.Create(server).SubmitAsync(new QwenImageRequest("cat")));
        Assert.Equal((DashScopeErrorCodes.InvalidResponse, false), (ex.Code, ex.IsRetryable));
    }

    [Fact]
    public async Task GetTaskAsync_ConnectionCutMidBody_ThrowsInvalidResponse()
    {
        await using var server = await LoopbackServer.StartAsync(new CannedResponse
        {
            Body = Golden.Text("Responses/003_qwen-image_succeeded.json"),
            CutBody = true,
        });
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => TestClients.Create(server).GetTaskAsync("t"));
        Assert.True(ex.Code is DashScopeErrorCodes.InvalidResponse or DashScopeErrorCodes.ConnectionFailed, ex.Code);
        Assert.True(ex.IsRetryable);
    }

    [Fact]
    public async Task GetTaskAsync_EmptyErrorBody_ThrowsWithStatus()
    {
        await using var server = await LoopbackServer.StartAsync(new CannedResponse { Status = 504, Body = string.Empty });
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => TestClients.Create(server).GetTaskAsync("t"));
        Assert.Equal((504, true), (ex.Status, ex.IsRetryable));
        Assert.Contains("(empty body)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetTaskAsync_ServerNeverAnswers_ThrowsClientTimeoutNotTaskCanceled()
    {
        await using var server = await LoopbackServer.StartAsync(new CannedResponse { Hang = true });
        var client = TestClients.Create(server, o => o.NetworkTimeout = TimeSpan.FromMilliseconds(300));
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => client.GetTaskAsync("t"));
        Assert.Equal((0, DashScopeErrorCodes.ClientTimeout, true), (ex.Status, ex.Code, ex.IsRetryable));
        Assert.Contains("NetworkTimeout", ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<OperationCanceledException>(ex.InnerException);
    }

    [Fact]
    public async Task SubmitAsync_ServerNeverAnswers_TimeoutIsNotRetryable()
    {
        await using var server = await LoopbackServer.StartAsync(new CannedResponse { Hang = true });
        var client = TestClients.Create(server, o => o.NetworkTimeout = TimeSpan.FromMilliseconds(300));
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => client.SubmitAsync(new QwenImageRequest("cat")));
        Assert.Equal((DashScopeErrorCodes.ClientTimeout, false), (ex.Code, ex.IsRetryable));
        Assert.Contains("may still have been created", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetTaskAsync_CallerCancels_ThrowsOperationCanceled()
    {
        await using var server = await LoopbackServer.StartAsync(new CannedResponse { Hang = true });
        var client = TestClients.Create(server);
        using var cts = new CancellationTokenSource();
        var call = client.GetTaskAsync("t", cts.Token);
        while (server.Requests.IsEmpty)
        {
            await Task.Yield();
        }

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    [Fact]
    public async Task GetTaskAsync_NothingListening_ThrowsRetryableConnectionFailed()
    {
        Uri endpoint;
        await using (var server = await LoopbackServer.StartAsync(CannedResponse.Json("{}")))
        {
            endpoint = server.BaseUri;
        }

        var client = new DashScopeClient(new HttpClient(), new DashScopeClientOptions { Endpoint = endpoint, ApiKey = TestClients.ApiKey });
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => client.GetTaskAsync("t"));
        Assert.Equal((0, DashScopeErrorCodes.ConnectionFailed, true), (ex.Status, ex.Code, ex.IsRetryable));
    }

    [Fact]
    public async Task Exceptions_NeverContainTheApiKey()
    {
        var exceptions = new List<Exception>();
        await using (var server = await LoopbackServer.StartAsync(CannedResponse.Json("""{"code":"InvalidApiKey","message":"Invalid API-key provided.","request_id":"r"}""", 401)))
        {
            exceptions.Add(await Assert.ThrowsAsync<DashScopeException>(() => TestClients.Create(server).GetTaskAsync("t")));
        }

        await using (var server = await LoopbackServer.StartAsync(new CannedResponse { Status = 500, Body = "<html>oops</html>" }))
        {
            exceptions.Add(await Assert.ThrowsAsync<DashScopeException>(() => TestClients.Create(server).SubmitAsync(new QwenImageRequest("cat"))));
        }

        await using (var server = await LoopbackServer.StartAsync(new CannedResponse { Hang = true }))
        {
            exceptions.Add(await Assert.ThrowsAsync<DashScopeException>(
                () => TestClients.Create(server, o => o.NetworkTimeout = TimeSpan.FromMilliseconds(200)).GetTaskAsync("t")));
        }

        exceptions.Add(await Assert.ThrowsAsync<DashScopeValidationException>(
            () => new DashScopeClient(new HttpClient(), new DashScopeClientOptions { ApiKey = TestClients.ApiKey }).SubmitAsync(new QwenImageRequest(""))));

        Assert.Equal(4, exceptions.Count);
        foreach (var ex in exceptions)
        {
            Assert.DoesNotContain(TestClients.ApiKey, ex.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(TestClients.ApiKey, ex.ToString(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(0, "Throttling.RateQuota", null, true)]
    [InlineData(0, "InternalError.Timeout", null, true)]
    [InlineData(0, "DataInspectionFailed", null, false)]
    [InlineData(0, "InvalidParameter", null, false)]
    [InlineData(0, null, null, false)]
    [InlineData(408, null, null, true)]
    [InlineData(429, "Throttling.AllocationQuota", "Free allocated quota exceeded.", false)]
    public void IsRetryableError_WithoutOrWithStatus_FollowsErrorTable(int status, string? code, string? message, bool expected) =>
        Assert.Equal(expected, DashScopeException.IsRetryableError(status, code, message));
}
