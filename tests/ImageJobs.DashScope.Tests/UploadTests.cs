using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace ImageJobs.DashScope.Tests;

/// <summary>
/// Temporary file uploads: the policy request and the multipart form are the ones DashScope's Python SDK sends
/// (<c>dashscope/utils/oss_utils.py</c>: <c>get_upload_certificate</c>, <c>OssUtils.upload</c>), and every failure
/// comes back as a <see cref="DashScopeException"/> with the provider's code.
/// </summary>
public class UploadTests
{
    private const string Model = "wanx2.1-imageedit";
    private const string FileBytes = "not-really-a-png-but-ascii-so-the-capture-keeps-it";

    private static CannedResponse PolicyAnswer(LoopbackServer server) =>
        CannedResponse.Json(Golden.Text("Responses/uploads_get_policy.json").Replace("UPLOAD_HOST", new Uri(server.Root, "/oss").AbsoluteUri, StringComparison.Ordinal));

    private static async Task<LoopbackServer> StartAsync(Func<CapturedRequest, CannedResponse>? upload = null)
    {
        LoopbackServer? server = null;
        server = await LoopbackServer.StartAsync(r => r.Path == "/api/v1/uploads"
            ? PolicyAnswer(server!)
            : upload?.Invoke(r) ?? new CannedResponse { Status = 200, Body = string.Empty, ContentType = "text/plain" });
        return server;
    }

    private static Task<DashScopeTemporaryFile> UploadAsync(LoopbackServer server) =>
        TestClients.Create(server).UploadTemporaryFileAsync(Model, new MemoryStream(Encoding.ASCII.GetBytes(FileBytes)), "cat.png", "image/png");

    [Fact]
    public async Task GetUploadPolicyAsync_SendsTheSdkPolicyRequest()
    {
        await using var server = await StartAsync();
        var policy = await TestClients.Create(server).GetUploadPolicyAsync(Model);

        var golden = Golden.Object("Requests/uploads_get_policy.json");
        var request = Assert.Single(server.Requests);
        Assert.Equal(golden["method"]!.GetValue<string>(), request.Method);
        Assert.Equal(golden["path"]!.GetValue<string>(), request.Path);
        Assert.Equal(golden["query"]!.GetValue<string>(), request.Query);
        foreach (var (name, value) in golden["headers"]!.AsObject())
        {
            Assert.Equal(value!.GetValue<string>(), request.Header(name));
        }

        Assert.All(golden["absent_headers"]!.AsArray(), h => Assert.Null(request.Header(h!.GetValue<string>())));
        Assert.Equal(new Uri(server.Root, "/oss"), policy.UploadHost);
        Assert.Equal("dashscope-instant/0f1e2d3c/2026-12-01/a1b2c3", policy.UploadDirectory);
        Assert.Equal(1024, policy.MaxFileSizeMegabytes);
        Assert.InRange(policy.ExpiresAt - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(290), TimeSpan.FromSeconds(301));
        Assert.DoesNotContain(policy.Signature, policy.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(policy.Policy, policy.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UploadTemporaryFileAsync_PostsTheSdkFormFieldsInOrder_WithoutTheApiKey()
    {
        await using var server = await StartAsync();
        var file = await UploadAsync(server);

        Assert.Equal("oss://dashscope-instant/0f1e2d3c/2026-12-01/a1b2c3/cat.png", file.Url);
        Assert.Equal(Model, file.Model);
        Assert.InRange(file.ExpiresAt - DateTimeOffset.UtcNow, TimeSpan.FromHours(47.9), TimeSpan.FromHours(48));

        var golden = Golden.Object("Requests/uploads_form_fields.json");
        var post = server.Requests.Single(r => r.Path == "/oss");
        Assert.Equal(golden["method"]!.GetValue<string>(), post.Method);
        Assert.All(golden["absent_headers"]!.AsArray(), h => Assert.Null(post.Header(h!.GetValue<string>())));
        Assert.NotNull(post.Header("date"));
        var parts = await ReadFormAsync(post);
        var expected = golden["fields"]!.AsArray().Select(f => f!.AsArray().Select(v => v!.GetValue<string>()).ToArray()).ToList();
        Assert.Equal(expected.Select(f => f[0]), parts.Select(p => p.Name));
        foreach (var (field, part) in expected.Zip(parts))
        {
            if (field[0] == "file")
            {
                Assert.Equal(field[1], part.FileName);
                Assert.Equal(field[2], part.ContentType);
                Assert.Equal(FileBytes, part.Value);
            }
            else
            {
                Assert.Equal(field[1], part.Value);
                Assert.Null(part.ContentType);
            }
        }
    }

    [Fact]
    public async Task SubmitAsync_InputWithOssUrl_SendsTheResolveHeader_OtherwiseNot()
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(Golden.Text("Responses/000_wanx-v1_submit_pending.json")));
        var client = TestClients.Create(server);
        await client.SubmitAsync(new WanxTextToImageRequest("a cat") { N = 1, ReferenceImage = "oss://dashscope-instant/x/2026-12-01/y/cat.png" });
        await client.SubmitAsync(new WanxTextToImageRequest("a cat") { N = 1, ReferenceImage = "https://example.com/cat.png" });
        await client.SubmitAsync(new WanImageToImageRequest("two cats", ["https://example.com/a.png", "oss://dashscope-instant/x/d/y/b.png"]) { N = 1 });

        var requests = server.Requests.ToList();
        Assert.Equal("enable", requests[0].Header(DashScopeClient.OssResourceResolveHeader));
        Assert.Null(requests[1].Header(DashScopeClient.OssResourceResolveHeader));
        Assert.Equal("enable", requests[2].Header(DashScopeClient.OssResourceResolveHeader));
        Assert.Contains("oss://dashscope-instant/x/2026-12-01/y/cat.png", requests[0].Body, StringComparison.Ordinal);
    }

    public static TheoryData<int, string, string, bool> PolicyErrors() => new()
    {
        { 401, "InvalidApiKey", "Invalid API-key provided.", false },
        { 400, "InvalidParameter", "Required parameter 'model' missing from request.", false },
        { 403, "AccessDenied", "Access denied.", false },
        { 429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later.", true },
        { 500, "InternalError", "An internal error has occured, please try again later or contact service support.", true },
    };

    [Theory]
    [MemberData(nameof(PolicyErrors))]
    public async Task GetUploadPolicyAsync_ErrorAnswer_ThrowsWithTheProviderCode(int status, string code, string message, bool retryable)
    {
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(
            $$"""{"request_id":"req-policy","code":"{{code}}","message":"{{message}}"}""", status));
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => UploadAsync(server));
        Assert.Equal((status, code, "req-policy", retryable), (ex.Status, ex.Code, ex.RequestId, ex.IsRetryable));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
        Assert.Single(server.Requests); // nothing was posted
    }

    [Theory]
    [InlineData("upload_host")]
    [InlineData("policy")]
    [InlineData("signature")]
    [InlineData("upload_dir")]
    public async Task GetUploadPolicyAsync_AnswerWithoutAField_ThrowsInvalidResponse(string field)
    {
        var answer = JsonNode.Parse(Golden.Text("Responses/uploads_get_policy.json"))!.AsObject();
        answer["data"]!.AsObject().Remove(field);
        answer["data"]!["upload_host"] ??= null;
        await using var server = await LoopbackServer.StartAsync(CannedResponse.Json(answer.ToJsonString().Replace("UPLOAD_HOST", "https://oss.example.com", StringComparison.Ordinal)));
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => TestClients.Create(server).GetUploadPolicyAsync(Model));
        Assert.Equal(DashScopeErrorCodes.InvalidResponse, ex.Code);
        Assert.Contains(field, ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<int, string, string, bool> StorageErrors() => new()
    {
        { 403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.", false },
        { 403, "AccessDenied", "Invalid according to Policy: Policy expired.", false },
        { 403, "AccessDenied", "Invalid according to Policy: Policy Condition failed: [\"starts-with\", \"$key\", \"dashscope-instant/\"]", false },
        { 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.", false },
        { 409, "FileAlreadyExists", "The object you specified already exists and can not be overwritten.", false },
        { 503, "ServiceUnavailable", "Please reduce your request rate.", true },
    };

    [Theory]
    [MemberData(nameof(StorageErrors))]
    public async Task UploadTemporaryFileAsync_StorageXmlError_ThrowsWithItsCode(int status, string code, string message, bool retryable)
    {
        var xml = $"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>{code}</Code>\n  <Message>{System.Security.SecurityElement.Escape(message)}</Message>\n" +
            "  <RequestId>6A7B8C9D</RequestId>\n  <HostId>dashscope-file-mgr.oss-cn-beijing.aliyuncs.com</HostId>\n</Error>\n";
        await using var server = await StartAsync(_ => new CannedResponse { Status = status, Body = xml, ContentType = "application/xml" });
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => UploadAsync(server));
        Assert.Equal((status, code, "6A7B8C9D", retryable), (ex.Status, ex.Code, ex.RequestId, ex.IsRetryable));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
        Assert.Contains(status.ToString(CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UploadTemporaryFileAsync_ErrorWithoutXml_ThrowsWithStatusAndSnippet()
    {
        await using var server = await StartAsync(_ => new CannedResponse { Status = 502, Body = "<html>bad gateway</html>", ContentType = "text/html" });
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => UploadAsync(server));
        Assert.Equal((502, null, true), (ex.Status, ex.Code, ex.IsRetryable));
        Assert.Contains("bad gateway", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UploadTemporaryFileAsync_StorageHangs_ThrowsClientTimeoutNotRetryable()
    {
        await using var server = await StartAsync(_ => new CannedResponse { Hang = true });
        var client = TestClients.Create(server, o => o.NetworkTimeout = TimeSpan.FromMilliseconds(300));
        var ex = await Assert.ThrowsAsync<DashScopeException>(() =>
            client.UploadTemporaryFileAsync(Model, new MemoryStream([1, 2, 3]), "a.png", "image/png"));
        Assert.Equal(DashScopeErrorCodes.ClientTimeout, ex.Code);
        Assert.False(ex.IsRetryable);
        Assert.DoesNotContain("task", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task GetUploadPolicyAsync_ManyAtOnce_StaysUnderOneHundredPerSecond()
    {
        // Bounded, loopback only: 120 calls for one key and model must take at least 119 intervals of 12.5 ms.
        await using var server = await StartAsync();
        var client = new DashScopeClient(new HttpClient(), TestClients.Options(server, o => o.ApiKey = "sk-pacing-" + Guid.NewGuid().ToString("N")));
        var started = System.Diagnostics.Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 120).Select(_ => client.GetUploadPolicyAsync(Model)));
        Assert.Equal(120, server.Requests.Count);
        Assert.True(started.Elapsed >= TimeSpan.FromSeconds(1.45), $"120 policy calls took only {started.Elapsed.TotalMilliseconds} ms.");
    }

    [Fact]
    public void Validator_OssUrlInput_IsAccepted_EmptyOneIsNot()
    {
        Assert.Empty(DashScopeRequestValidator.Validate(Model,
            new JsonObject { ["function"] = "stylization_all", ["prompt"] = "x", ["base_image_url"] = "oss://dashscope-instant/a/b.png" }, null));
        Assert.Contains(DashScopeRequestValidator.Validate(Model,
            new JsonObject { ["function"] = "stylization_all", ["prompt"] = "x", ["base_image_url"] = "oss://" }, null),
            e => e.Field == "input.base_image_url");
    }

    private static async Task<List<(string Name, string? FileName, string? ContentType, string Value)>> ReadFormAsync(CapturedRequest request)
    {
        var boundary = HeaderUtilities.RemoveQuotes(MediaTypeHeaderValue.Parse(request.Header("content-type")).Boundary).Value!;
        var reader = new MultipartReader(boundary, new MemoryStream(Encoding.UTF8.GetBytes(request.Body)));
        var parts = new List<(string, string?, string?, string)>();
        while (await reader.ReadNextSectionAsync() is { } section)
        {
            var disposition = ContentDispositionHeaderValue.Parse(section.ContentDisposition);
            using var text = new StreamReader(section.Body);
            parts.Add((HeaderUtilities.RemoveQuotes(disposition.Name).Value!, HeaderUtilities.RemoveQuotes(disposition.FileName).Value,
                section.ContentType, await text.ReadToEndAsync()));
        }

        return parts;
    }
}
