namespace ImageJobs.DashScope.Tests;

/// <summary>Status enum, data URIs, model profiles, result hosts.</summary>
public class PrimitivesTests
{
    [Theory]
    [InlineData("PENDING", false)]
    [InlineData("RUNNING", false)]
    [InlineData("SUSPENDED", false)]
    [InlineData("SUCCEEDED", true)]
    [InlineData("FAILED", true)]
    [InlineData("CANCELED", true)]
    [InlineData("UNKNOWN", true)]
    [InlineData("succeeded", true)]
    public void TaskStatus_KnownValue_IsKnownAndTerminalAsDocumented(string value, bool terminal)
    {
        var status = new DashScopeTaskStatus(value);
        Assert.True(status.IsKnown);
        Assert.Equal(terminal, status.IsTerminal);
        Assert.Equal(value, status.ToString());
    }

    [Fact]
    public void TaskStatus_FutureValue_KeepsValueAndIsNeitherKnownNorTerminal()
    {
        DashScopeTaskStatus status = "PAUSED_BY_OPERATOR";
        Assert.False(status.IsKnown);
        Assert.False(status.IsTerminal);
        Assert.NotEqual(DashScopeTaskStatus.Pending, status);
        Assert.Equal(new DashScopeTaskStatus("paused_by_operator"), status);
        Assert.Equal(new DashScopeTaskStatus("paused_by_operator").GetHashCode(), status.GetHashCode());
        Assert.Equal(string.Empty, default(DashScopeTaskStatus).Value);
    }

    public static TheoryData<byte[], string> Magic() => new()
    {
        { [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10], "image/jpeg" },
        { [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0], "image/png" },
        { [(byte)'B', (byte)'M', 0x36, 0, 0, 0], "image/bmp" },
        { [(byte)'I', (byte)'I', 42, 0, 8, 0], "image/tiff" },
        { [(byte)'M', (byte)'M', 0, 42, 0, 8], "image/tiff" },
        { [(byte)'R', (byte)'I', (byte)'F', (byte)'F', 1, 2, 3, 4, (byte)'W', (byte)'E', (byte)'B', (byte)'P', 0], "image/webp" },
    };

    [Theory]
    [MemberData(nameof(Magic))]
    public void ToDataUri_MagicBytes_SniffsMimeType(byte[] data, string mime)
    {
        Assert.Equal(mime, DashScopeImageData.DetectMimeType(data));
        Assert.Equal($"data:{mime};base64,{Convert.ToBase64String(data)}", DashScopeImageData.ToDataUri(data));
    }

    [Fact]
    public void ToDataUri_GifBytes_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => DashScopeImageData.ToDataUri("GIF89a......"u8));
        Assert.Contains("magic bytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToDataUri_WavRiffNotWebp_IsNotAccepted() =>
        Assert.Null(DashScopeImageData.DetectMimeType("RIFF\0\0\0\0WAVEfmt "u8));

    [Fact]
    public async Task ToDataUriAsync_PngStream_ProducesValidatedDataUri()
    {
        using var stream = new MemoryStream([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]);
        var uri = await DashScopeImageData.ToDataUriAsync(stream);
        Assert.StartsWith("data:image/png;base64,", uri, StringComparison.Ordinal);
        Assert.Empty(new WanImageToImageRequest("x", [uri]).Validate());
    }

    [Fact]
    public async Task ToDataUriAsync_StreamOver10MB_Throws()
    {
        var data = new byte[DashScopeModels.MaxInputImageBytes + 1];
        data[0] = 0xFF;
        data[1] = 0xD8;
        data[2] = 0xFF;
        using var stream = new MemoryStream(data);
        await Assert.ThrowsAsync<ArgumentException>(() => DashScopeImageData.ToDataUriAsync(stream));
    }

    [Theory]
    [InlineData("dashscope-result-bj.oss-cn-beijing.aliyuncs.com", true)]
    [InlineData("dashscope-result-wlcb-acdr-1.oss-cn-wulanchabu-acdr-1.aliyuncs.com", true)]
    [InlineData("DASHSCOPE-RESULT-SZ.OSS-CN-SHENZHEN.ALIYUNCS.COM", true)]
    [InlineData("dashscope-result-bj.oss-cn-beijing.aliyuncs.com.evil.com", false)]
    [InlineData("evil-dashscope-result-bj.oss-cn-beijing.aliyuncs.com", false)]
    [InlineData("help-static-aliyun-doc.aliyuncs.com", false)]
    [InlineData("127.0.0.1", false)]
    public void IsResultHost_Host_MatchesDocumentedPattern(string host, bool expected) =>
        Assert.Equal(expected, DashScopeResultHosts.IsResultHost(host));

    [Fact]
    public void IsResultHost_EveryDocumentedHost_Matches() =>
        Assert.All(DashScopeResultHosts.DocumentedHosts, h => Assert.True(DashScopeResultHosts.IsResultHost(h), h));

    [Fact]
    public void IsResultUrl_HttpScheme_IsRejected() =>
        Assert.False(DashScopeResultHosts.IsResultUrl(new Uri("http://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/a.png")));

    [Fact]
    public void Profiles_MatchSpecLimitsAndLatencies()
    {
        Assert.Equal(5, DashScopeModels.Profiles.Count);
        var wanx = DashScopeModels.GetProfile(DashScopeModels.WanxV1);
        Assert.Equal((2, 1, 4, true), (wanx.SubmitRequestsPerSecond, wanx.MaxConcurrentTasks, wanx.DefaultImageCount, wanx.BeijingOnly));
        var edit = DashScopeModels.GetProfile(DashScopeModels.WanxImageEdit);
        Assert.Equal((DashScopeTaskKind.ImageToImage, 2, 2), (edit.Kind, edit.SubmitRequestsPerSecond, edit.MaxConcurrentTasks));
        Assert.Equal((TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15)), (edit.TypicalLatencyMin, edit.TypicalLatencyMax));
        var wan = DashScopeModels.GetProfile(DashScopeModels.Wan25ImageToImagePreview);
        Assert.Equal((5, 5, TimeSpan.FromMinutes(2)), (wan.SubmitRequestsPerSecond, wan.MaxConcurrentTasks, wan.TypicalLatencyMax));
        var qwen = DashScopeModels.GetProfile(DashScopeModels.QwenImagePlus);
        Assert.Equal((1, true, DashScopeTaskKind.TextToImage), (qwen.MaxImageCount, qwen.SupportsSyncCall, qwen.Kind));
        Assert.Equal(20, DashScopeModels.TaskQueryRequestsPerSecond);
        Assert.Equal(TimeSpan.FromHours(24), DashScopeModels.ResultRetention);
        Assert.Throws<ArgumentException>(() => DashScopeModels.GetProfile("nope"));
    }
}
