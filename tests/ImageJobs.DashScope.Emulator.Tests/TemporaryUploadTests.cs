using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;

namespace ImageJobs.DashScope.Emulator.Tests;

/// <summary>
/// The temporary storage: <c>GET /uploads?action=getPolicy</c>, the OSS-style upload host with its XML errors, and
/// <c>oss://</c> inputs on submit (with and without <c>X-DashScope-OssResourceResolve</c>).
/// </summary>
public sealed class TemporaryUploadTests
{
    private const string ImageEdit = "wanx2.1-imageedit";
    private static readonly byte[] Png1024x512 = PngEncoder.Paint(1024, 512, 7);

    private sealed record Policy(JsonElement Data)
    {
        public string Dir => Data.GetProperty("upload_dir").GetString()!;

        public Uri Host => new(Data.GetProperty("upload_host").GetString()!);

        public string Field(string name) => Data.GetProperty(name).ValueKind == JsonValueKind.Number
            ? Data.GetProperty(name).GetRawText()
            : Data.GetProperty(name).GetString()!;
    }

    private static async Task<Policy> GetPolicyAsync(EmulatorClient emu, string model = ImageEdit)
    {
        using var response = await emu.Http.GetAsync($"uploads?action=getPolicy&model={model}");
        var reply = await Reply.ReadAsync(response);
        Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
        return new Policy(reply.Json.GetProperty("data"));
    }

    /// <summary>Posts the form in the field order of the Python SDK's <c>OssUtils.upload</c>; <paramref name="edit"/> changes a field.</summary>
    private static async Task<(HttpStatusCode Status, string Body)> PostFormAsync(
        Policy policy, byte[] file, string fileName, string contentType = "image/png", Action<Dictionary<string, string>>? edit = null)
    {
        var fields = new Dictionary<string, string>
        {
            ["OSSAccessKeyId"] = policy.Field("oss_access_key_id"),
            ["Signature"] = policy.Field("signature"),
            ["policy"] = policy.Field("policy"),
            ["key"] = policy.Dir + "/" + fileName,
            ["x-oss-object-acl"] = policy.Field("x_oss_object_acl"),
            ["x-oss-forbid-overwrite"] = policy.Field("x_oss_forbid_overwrite"),
            ["success_action_status"] = "200",
            ["x-oss-content-type"] = contentType,
        };
        edit?.Invoke(fields);
        using var form = new MultipartFormDataContent();
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        var part = new ByteArrayContent(file);
        part.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        form.Add(part, "file", fileName);
        using var plain = new HttpClient(); // the upload host gets no API key
        using var response = await plain.PostAsync(policy.Host, form);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<string> UploadAsync(EmulatorClient emu, byte[] file, string fileName, string model = ImageEdit)
    {
        var policy = await GetPolicyAsync(emu, model);
        var (status, body) = await PostFormAsync(policy, file, fileName);
        Assert.True(status == HttpStatusCode.OK, body);
        return "oss://" + policy.Dir + "/" + fileName;
    }

    private static async Task<Reply> SubmitEditAsync(EmulatorClient emu, string baseImage, bool resolve = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, EmulatorClient.Image2Image)
        {
            Content = new StringContent(
                EmulatorClient.Body(ImageEdit, new { function = "super_resolution", prompt = "sharper", base_image_url = baseImage }, new { n = 1, upscale_factor = 2 }),
                Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-DashScope-Async", "enable");
        if (resolve)
        {
            request.Headers.Add("X-DashScope-OssResourceResolve", "enable");
        }

        using var response = await emu.Http.SendAsync(request);
        return await Reply.ReadAsync(response);
    }

    private static (string Code, string Message) OssError(string xml)
    {
        var root = XDocument.Parse(xml).Root!;
        Assert.Equal("Error", root.Name.LocalName);
        Assert.NotEmpty(root.Element("RequestId")!.Value);
        return (root.Element("Code")!.Value, root.Element("Message")!.Value);
    }

    [Fact]
    public async Task GetPolicy_AnswersTheDocumentedFields_WithASignedPolicyOverItsDirectory()
    {
        await using var emu = await EmulatorClient.StartAsync();
        var policy = await GetPolicyAsync(emu);

        foreach (var name in new[] { "policy", "signature", "upload_dir", "upload_host", "oss_access_key_id", "x_oss_object_acl", "x_oss_forbid_overwrite" })
        {
            Assert.False(string.IsNullOrEmpty(policy.Field(name)), name);
        }

        Assert.Equal("300", policy.Field("expire_in_seconds"));
        Assert.Equal("1024", policy.Field("max_file_size_mb"));
        Assert.True(policy.Host.IsLoopback, "the emulator's upload host is its own loopback address");
        Assert.Equal(emu.Host.RootAddress.Authority, policy.Host.Authority);
        var document = JsonDocument.Parse(Convert.FromBase64String(policy.Field("policy"))).RootElement;
        Assert.True(document.TryGetProperty("expiration", out _));
        var conditions = document.GetProperty("conditions").EnumerateArray().Select(c => c.GetRawText()).ToList();
        Assert.Contains(conditions, c => c.Contains("starts-with", StringComparison.Ordinal) && c.Contains(policy.Dir + "/", StringComparison.Ordinal));
        Assert.Contains(conditions, c => c.Contains($"\"content-length-range\",0,{1024L * 1024 * 1024}", StringComparison.Ordinal));
        Assert.Equal(1, emu.Host.Stats.Snapshot().UploadPolicies);
    }

    [Theory]
    [InlineData("uploads?action=getPolicy&model=wanx-v1", "sk-wrong", HttpStatusCode.Unauthorized, "InvalidApiKey")]
    [InlineData("uploads?action=list&model=wanx-v1", EmulatorClient.ApiKey, HttpStatusCode.BadRequest, "InvalidParameter")]
    [InlineData("uploads?action=getPolicy", EmulatorClient.ApiKey, HttpStatusCode.BadRequest, "BadRequest.EmptyModel")]
    public async Task GetPolicy_BadRequest_AnswersDashScopeError(string path, string key, HttpStatusCode status, string code)
    {
        await using var emu = await EmulatorClient.StartAsync();
        emu.Http.DefaultRequestHeaders.Authorization = new("Bearer", key);
        using var response = await emu.Http.GetAsync(path);
        var reply = await Reply.ReadAsync(response);
        Assert.Equal((status, code), (reply.Status, reply.Code));
    }

    [Fact]
    public async Task GetPolicy_OverOneHundredPerSecondForOneModel_429_OtherModelStillServed()
    {
        await using var emu = await EmulatorClient.StartAsync(o => o.TimeScale = 1);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 101; i++) // bounded, loopback; far faster than a second
        {
            using var response = await emu.Http.GetAsync("uploads?action=getPolicy&model=wanx-v1");
            statuses.Add(response.StatusCode);
        }

        Assert.Equal(100, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        await GetPolicyAsync(emu, ImageEdit);
        Assert.Equal(1, emu.Host.Stats.Snapshot().ThrottledByKind["policy_qps"]);
    }

    [Fact]
    public async Task Upload_SdkForm_200_AndTheFileServesASubmit()
    {
        await using var emu = await EmulatorClient.StartAsync();
        var url = await UploadAsync(emu, Png1024x512, "base.png");

        var reply = await SubmitEditAsync(emu, url);
        Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
        var done = await emu.WaitAsync(reply.Output.GetProperty("task_id").GetString()!);
        var (_, png) = await emu.DownloadAsync(done.GetProperty("output").GetProperty("results")[0].GetProperty("url").GetString()!);
        Assert.Equal((2048, 1024), EmulatorClient.PngSize(png)); // the uploaded PNG's size was read, like a data URI's
        Assert.Equal(1, emu.Host.Stats.Snapshot().FilesUploaded);
        Assert.Equal(1, emu.Host.Stats.Snapshot().OssInputsResolved);
    }

    public static TheoryData<string, HttpStatusCode, string, string> FormErrors() => new()
    {
        { "bad-signature", HttpStatusCode.Forbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match" },
        { "tampered-policy", HttpStatusCode.Forbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match" },
        { "key-outside-dir", HttpStatusCode.Forbidden, "AccessDenied", "Policy Condition failed: [\"starts-with\", \"$key\"" },
        { "acl-changed", HttpStatusCode.Forbidden, "AccessDenied", "Policy Condition failed: [\"eq\", \"$x-oss-object-acl\", \"private\"]" },
        { "wrong-access-key", HttpStatusCode.Forbidden, "InvalidAccessKeyId", "does not exist in our records" },
        { "no-policy", HttpStatusCode.BadRequest, "InvalidArgument", "must all be present" },
    };

    [Theory]
    [MemberData(nameof(FormErrors))]
    public async Task Upload_FormBreaksThePolicy_OssXmlError(string breakage, HttpStatusCode status, string code, string message)
    {
        await using var emu = await EmulatorClient.StartAsync();
        var policy = await GetPolicyAsync(emu);
        var (actual, body) = await PostFormAsync(policy, Png1024x512, "a.png", edit: f =>
        {
            switch (breakage)
            {
                case "bad-signature": f["Signature"] = Convert.ToBase64String(new byte[32]); break;
                case "tampered-policy": f["policy"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("{\"expiration\":\"2099-01-01T00:00:00.000Z\",\"conditions\":[]}")); break;
                case "key-outside-dir": f["key"] = "dashscope-instant/someone-else/a.png"; break;
                case "acl-changed": f["x-oss-object-acl"] = "public-read"; break;
                case "wrong-access-key": f["OSSAccessKeyId"] = "LTAI5tSomebodyElse"; break;
                case "no-policy": f.Remove("policy"); break;
            }
        });

        Assert.Equal(status, actual);
        var (actualCode, actualMessage) = OssError(body);
        Assert.Equal(code, actualCode);
        Assert.Contains(message, actualMessage, StringComparison.Ordinal);
        Assert.Equal(0, emu.Host.Stats.Snapshot().FilesUploaded);
    }

    [Fact]
    public async Task Upload_AfterThePolicyExpired_403PolicyExpired()
    {
        var clock = new FakeTimeProvider(EmulatorClient.ClockStart);
        await using var emu = await EmulatorClient.StartAsync(o => o.TimeScale = 1, clock);
        var policy = await GetPolicyAsync(emu);
        clock.Advance(TimeSpan.FromSeconds(301));
        var (status, body) = await PostFormAsync(policy, Png1024x512, "late.png");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal(("AccessDenied", "Invalid according to Policy: Policy expired."), OssError(body));
    }

    [Fact]
    public async Task Upload_FastTimeScale_PolicyStillLasts300RealSeconds()
    {
        // At time scale 0.001 two real seconds are 2 000 service seconds; a policy is a credential for an upload that
        // follows at once, so its 300 s are not scaled and a loaded machine cannot expire it mid-upload.
        var clock = new FakeTimeProvider(EmulatorClient.ClockStart);
        await using var emu = await EmulatorClient.StartAsync(o => o.TimeScale = 0.001, clock);
        var policy = await GetPolicyAsync(emu);
        clock.Advance(TimeSpan.FromSeconds(2));
        var (status, _) = await PostFormAsync(policy, Png1024x512, "slow.png");
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task Upload_LargerThanThePolicyAllows_400EntityTooLarge()
    {
        await using var emu = await EmulatorClient.StartAsync(o => o.UploadMaxFileSizeMb = 1);
        var policy = await GetPolicyAsync(emu);
        var (status, body) = await PostFormAsync(policy, new byte[(1024 * 1024) + 1], "big.png");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("EntityTooLarge", OssError(body).Code);
        var (fits, _) = await PostFormAsync(policy, new byte[1024 * 1024], "fits.png");
        Assert.Equal(HttpStatusCode.OK, fits);
    }

    [Fact]
    public async Task Upload_SameKeyTwice_409FileAlreadyExists()
    {
        await using var emu = await EmulatorClient.StartAsync();
        var policy = await GetPolicyAsync(emu);
        Assert.Equal(HttpStatusCode.OK, (await PostFormAsync(policy, Png1024x512, "same.png")).Status);
        var (status, body) = await PostFormAsync(policy, Png1024x512, "same.png");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("FileAlreadyExists", OssError(body).Code);
    }

    [Fact]
    public async Task Submit_OssInputWithoutTheResolveHeader_400InvalidURL()
    {
        await using var emu = await EmulatorClient.StartAsync();
        var url = await UploadAsync(emu, Png1024x512, "base.png");
        var reply = await SubmitEditAsync(emu, url, resolve: false);
        Assert.Equal((HttpStatusCode.BadRequest, "InvalidURL"), (reply.Status, reply.Code));
        Assert.Equal(0, emu.Host.Stats.Snapshot().OssInputsResolved);
    }

    [Fact]
    public async Task Submit_UnknownKey_OtherModelsUpload_OtherAccount_400InputDownloadFailed()
    {
        await using var emu = await EmulatorClient.StartAsync(o => { o.ApiKey = null; o.LimitScale = 10; }); // any key: two accounts
        var wanxUpload = await UploadAsync(emu, Png1024x512, "ref.png", model: "wanx-v1");
        var mine = await UploadAsync(emu, Png1024x512, "mine.png");

        var unknown = await SubmitEditAsync(emu, "oss://dashscope-instant/nobody/2026-01-01/x/none.png");
        var otherModel = await SubmitEditAsync(emu, wanxUpload);
        emu.Http.DefaultRequestHeaders.Authorization = new("Bearer", "sk-another-account");
        var otherAccount = await SubmitEditAsync(emu, mine);

        Assert.Equal((HttpStatusCode.BadRequest, "BadRequest.InputDownloadFailed"), (unknown.Status, unknown.Code));
        Assert.Contains("does not exist", unknown.Message, StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.BadRequest, "BadRequest.InputDownloadFailed"), (otherModel.Status, otherModel.Code));
        Assert.Contains("wanx-v1", otherModel.Message, StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.BadRequest, "BadRequest.InputDownloadFailed"), (otherAccount.Status, otherAccount.Code));
    }

    [Fact]
    public async Task Submit_UploadOlderThan48ScaledHours_400Expired_YoungerOneWorks()
    {
        var clock = new FakeTimeProvider(EmulatorClient.ClockStart);
        await using var emu = await EmulatorClient.StartAsync(o => o.TimeScale = 0.001, clock); // 48 h pass in 172.8 s
        var old = await UploadAsync(emu, Png1024x512, "old.png");
        clock.Advance(TimeSpan.FromSeconds(172.9));
        var fresh = await UploadAsync(emu, Png1024x512, "fresh.png");

        var expired = await SubmitEditAsync(emu, old);
        Assert.Equal((HttpStatusCode.BadRequest, "BadRequest.InputDownloadFailed"), (expired.Status, expired.Code));
        Assert.Contains("expired", expired.Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await SubmitEditAsync(emu, fresh)).Status);
    }

    [Fact]
    public async Task Submit_UploadedPngTooSmallForTheModel_400LikeADataUri()
    {
        await using var emu = await EmulatorClient.StartAsync();
        var url = await UploadAsync(emu, PngEncoder.Paint(300, 300, 1), "small.png");
        var reply = await SubmitEditAsync(emu, url);
        Assert.Equal((HttpStatusCode.BadRequest, "InvalidParameter"), (reply.Status, reply.Code));
        Assert.Contains("300*300", reply.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// What DashScope's Python SDK 1.26.2 sends for <c>ImageSynthesis.call(model="wanx2.1-imageedit",
    /// base_image_url="file://…")</c> and for <c>images=["plain/path.png"]</c> with wan2.5 (the SDK itself cannot be
    /// installed here): <c>check_and_upload_local</c> strips <c>file://</c> (or takes a plain path), <c>OssUtils.upload</c>
    /// calls <c>get_upload_certificate</c> (<c>GET {base}/uploads</c> with <c>action</c>, <c>model</c>), posts the form
    /// fields then the file, and the call adds <c>X-DashScope-OssResourceResolve: enable</c> because an input was uploaded.
    /// One certificate serves every image of the call.
    /// </summary>
    [Fact]
    public async Task PythonSdkSequence_FileUrlAndPlainPathInputs_Succeed()
    {
        await using var emu = await EmulatorClient.StartAsync();
        var directory = Directory.CreateTempSubdirectory("sdk-upload-");
        try
        {
            var basePath = Path.Combine(directory.FullName, "base image.png");
            await File.WriteAllBytesAsync(basePath, Png1024x512);
            var otherPath = Path.Combine(directory.FullName, "second.png");
            await File.WriteAllBytesAsync(otherPath, PngEncoder.Paint(600, 900, 3));

            // wanx2.1-imageedit with base_image_url = file://{path} (unquote_plus of the URL path).
            var editBase = await SdkUploadAsync(emu, ImageEdit, [new Uri(basePath).AbsoluteUri]);
            var edit = await SdkCallAsync(emu, EmulatorClient.Image2Image, EmulatorClient.Body(ImageEdit,
                new { prompt = "sharper", function = "super_resolution", base_image_url = editBase[0] }, new { upscale_factor = 2, n = 1 }));

            // wan2.5 with images = [plain path, plain path]: one certificate for both.
            var wanImages = await SdkUploadAsync(emu, "wan2.5-i2i-preview", [basePath, otherPath]);
            var wan = await SdkCallAsync(emu, EmulatorClient.Image2Image, EmulatorClient.Body("wan2.5-i2i-preview",
                new { prompt = "both together", images = wanImages }, new { n = 1 }));

            var editDone = await emu.WaitAsync(edit);
            var wanDone = await emu.WaitAsync(wan);
            Assert.Equal("SUCCEEDED", editDone.GetProperty("output").GetProperty("task_status").GetString());
            Assert.Equal("SUCCEEDED", wanDone.GetProperty("output").GetProperty("task_status").GetString());
            var (_, wanPng) = await emu.DownloadAsync(wanDone.GetProperty("output").GetProperty("results")[0].GetProperty("url").GetString()!);
            var (w, h) = EmulatorClient.PngSize(wanPng);
            Assert.InRange((double)w / h, 0.6, 0.73); // the last input's 2:3 aspect ratio was read from the uploaded PNG
            Assert.Equal(2, emu.Host.Stats.Snapshot().UploadPolicies);
            Assert.Equal(3, emu.Host.Stats.Snapshot().FilesUploaded);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task<string[]> SdkUploadAsync(EmulatorClient emu, string model, string[] contents)
    {
        JsonElement? certificate = null;
        var urls = new List<string>();
        foreach (var content in contents)
        {
            var path = content.StartsWith("file://", StringComparison.Ordinal) ? Uri.UnescapeDataString(new Uri(content).AbsolutePath) : content;
            Assert.True(File.Exists(path), path);
            if (certificate is null)
            {
                using var get = new HttpRequestMessage(HttpMethod.Get, "uploads?action=getPolicy&model=" + Uri.EscapeDataString(model));
                get.Headers.Accept.ParseAdd("application/json");
                using var response = await emu.Http.SendAsync(get);
                var reply = await Reply.ReadAsync(response);
                Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
                certificate = reply.Json.GetProperty("data");
            }

            var policy = new Policy(certificate.Value);
            var fileName = Path.GetFileName(path);
            var (status, body) = await PostFormAsync(policy, await File.ReadAllBytesAsync(path), fileName);
            Assert.True(status == HttpStatusCode.OK, body);
            urls.Add("oss://" + policy.Dir + "/" + fileName);
        }

        return [.. urls];
    }

    private static async Task<string> SdkCallAsync(EmulatorClient emu, string path, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-DashScope-Async", "enable");
        request.Headers.Add("X-DashScope-OssResourceResolve", "enable");
        using var response = await emu.Http.SendAsync(request);
        var reply = await Reply.ReadAsync(response);
        Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
        return reply.Output.GetProperty("task_id").GetString()!;
    }
}
