using ImageJobs.DashScope.Emulator;
using static ImageJobs.DashScope.Tests.Emulator.EmulatorKit;

namespace ImageJobs.DashScope.Tests.Emulator;

/// <summary>The client's temporary uploads against the emulator: upload, then a submit with the <c>oss://</c> URL.</summary>
public class EmulatorUploadTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    [Fact]
    public async Task UploadThenSubmit_ImageEdit_SucceedsAtTheUploadedImagesScale()
    {
        var client = fixture.Client();
        var file = await client.UploadTemporaryFileAsync(DashScopeModels.WanxImageEdit, new MemoryStream(BuildPng(600, 520)), "base.png", "image/png");
        Assert.StartsWith("oss://", file.Url, StringComparison.Ordinal);

        var task = await RunToSuccessAsync(client, new WanxImageEditRequest(WanxImageEditFunctions.SuperResolution, "sharper", file.Url)
        {
            N = 1,
            UpscaleFactor = 2,
        });
        await AssertImagesAsync(task.ImageUrls, 1200, 1040);
    }

    [Fact]
    public async Task UploadForAnotherModel_Submit_ThrowsInputDownloadFailed()
    {
        var client = fixture.Client();
        var file = await client.UploadTemporaryFileAsync(DashScopeModels.WanxV1, new MemoryStream(BuildPng(600, 520)), "ref.png", "image/png");
        var ex = await Assert.ThrowsAsync<DashScopeException>(() => client.SubmitAsync(
            new WanxImageEditRequest(WanxImageEditFunctions.StylizationAll, "x", file.Url) { N = 1 }));
        Assert.Equal((400, "BadRequest.InputDownloadFailed", false), (ex.Status, ex.Code, ex.IsRetryable));
    }

    [Fact]
    public async Task SameFileNameTwiceWithOnePolicy_Throws409FileAlreadyExists_ANewPolicyWorks()
    {
        var client = fixture.Client();
        var policy = await client.GetUploadPolicyAsync(DashScopeModels.WanxImageEdit);
        await client.UploadTemporaryFileAsync(policy, new MemoryStream(BuildPng(600, 520)), "a.png", "image/png");
        var ex = await Assert.ThrowsAsync<DashScopeException>(() =>
            client.UploadTemporaryFileAsync(policy, new MemoryStream(BuildPng(600, 520)), "a.png", "image/png"));
        Assert.Equal((409, "FileAlreadyExists"), (ex.Status, ex.Code));
        await client.UploadTemporaryFileAsync(DashScopeModels.WanxImageEdit, new MemoryStream(BuildPng(600, 520)), "a.png", "image/png");
    }
}
