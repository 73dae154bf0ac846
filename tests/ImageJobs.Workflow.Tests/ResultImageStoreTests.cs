using System.Buffers.Binary;
using System.Security.Cryptography;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using ImageJobs.Testing;
using ImageJobs.Workflow.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace ImageJobs.Workflow.Tests;

public sealed class ResultImageStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>, IAsyncLifetime
{
    private WebApplication _server = null!;
    private int _served;
    private int _servedJpeg;
    private static readonly byte[] Jpeg = [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xd9];
    private readonly byte[] _bigPng = FakePng(640, 480, 9 * 1024 * 1024 + 123);
    private readonly byte[] _smallPng = FakePng(64, 48, 300_000);

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _server = builder.Build();
        _server.MapGet("/img.png", async ctx =>
        {
            Interlocked.Increment(ref _served);
            ctx.Response.ContentType = "image/png";
            await ctx.Response.Body.WriteAsync(_bigPng);
        });
        _server.MapGet("/small.png", async ctx =>
        {
            ctx.Response.ContentType = "image/png";
            await ctx.Response.Body.WriteAsync(_smallPng);
        });
        _server.MapGet("/photo.png", async ctx =>
        {
            Interlocked.Increment(ref _servedJpeg);
            ctx.Response.ContentType = "image/png"; // the URL and its header say PNG; the bytes are a JPEG
            await ctx.Response.Body.WriteAsync(Jpeg);
        });
        _server.MapGet("/expired.png", ctx => { ctx.Response.StatusCode = 403; return Task.CompletedTask; });
        _server.MapGet("/page", ctx => ctx.Response.WriteAsync("<html/>"));
        await _server.StartAsync();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private string Url(string path) => _server.Urls.First() + path;

    private async Task<(ResultImageStore Store, BlobContainerClient Container)> CreateAsync()
    {
        var service = new BlobServiceClient(azurite.ConnectionString);
        var container = service.GetBlobContainerClient("results-" + Guid.NewGuid().ToString("N")[..8]);
        await container.CreateAsync();
        return (new ResultImageStore(service, new HttpClient()), container);
    }

    private static ResultImageCopy Copy(BlobContainerClient c, string url, long max = 20 * 1024 * 1024) =>
        new(url, c.Name, "job1/0.png", new Dictionary<string, string> { [BlobMetadata.TaskId] = "t-1", [BlobMetadata.OrigPrompt] = BlobMetadata.EncodeText("一只猫 cat") }, max);

    [Fact]
    public async Task CopyAsync_LargePng_StoredWithHashSizeDimensionsAndMetadata()
    {
        var (store, container) = await CreateAsync();

        var outcome = await store.CopyAsync(Copy(container, Url("/img.png")));

        var image = Assert.IsType<StoredImage>(outcome.Image);
        Assert.False(outcome.AlreadyStored);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(_bigPng)), image.Sha256);
        Assert.Equal(_bigPng.Length, image.Bytes);
        Assert.Equal((640, 480), (image.Width, image.Height));
        var props = (await container.GetBlobClient("job1/0.png").GetPropertiesAsync()).Value;
        Assert.Equal("image/png", props.ContentType);
        Assert.Equal(image.Sha256, props.Metadata[BlobMetadata.Sha256]);
        Assert.Equal("一只猫 cat", BlobMetadata.DecodeText(props.Metadata[BlobMetadata.OrigPrompt]));
        Assert.Equal("t-1", props.Metadata[BlobMetadata.TaskId]);
        var blocks = (await container.GetBlockBlobClient("job1/0.png").GetBlockListAsync(BlockListTypes.Committed)).Value;
        Assert.Equal(3, blocks.CommittedBlocks.Count()); // 9 MiB in 4 MiB blocks
    }

    [Fact]
    public async Task CopyAsync_JpegBehindAPngUrl_NamedByItsRealType_AndARetryFindsIt()
    {
        var (store, container) = await CreateAsync();

        var outcome = await store.CopyAsync(Copy(container, Url("/photo.png")));
        var again = await store.CopyAsync(Copy(container, Url("/photo.png")));

        var image = Assert.IsType<StoredImage>(outcome.Image);
        Assert.Equal(("job1/0.jpg", "image/jpeg"), (image.BlobName, image.ContentType));
        Assert.Equal("image/jpeg", (await container.GetBlobClient("job1/0.jpg").GetPropertiesAsync()).Value.ContentType);
        Assert.False(await container.GetBlobClient("job1/0.png").ExistsAsync());
        Assert.True(again.AlreadyStored);
        Assert.Equal(image, again.Image);
        Assert.Equal(1, _servedJpeg);
    }

    [Theory]
    [InlineData("job1/0.png", "image/png", "job1/0.png")]
    [InlineData("job1/0.png", "image/jpeg", "job1/0.jpg")]
    [InlineData("team.a/job1/0.png", "image/webp", "team.a/job1/0.webp")]
    [InlineData("team.a/job1/0", "image/gif", "team.a/job1/0.gif")]
    public void NameFor_TakesTheExtensionOfTheRealType(string blobName, string mime, string expected) =>
        Assert.Equal(expected, ResultImageStore.NameFor(blobName, mime));

    [Fact]
    public async Task CopyAsync_ImageInOneBlock_OnePutBlobWithHashAndMetadata()
    {
        var (store, container) = await CreateAsync();

        var outcome = await store.CopyAsync(Copy(container, Url("/small.png")));

        var image = Assert.IsType<StoredImage>(outcome.Image);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(_smallPng)), image.Sha256);
        Assert.Equal((_smallPng.Length, 64, 48), (image.Bytes, image.Width!.Value, image.Height!.Value));
        var blob = container.GetBlobClient("job1/0.png");
        var props = (await blob.GetPropertiesAsync()).Value;
        Assert.Equal(image.Sha256, props.Metadata[BlobMetadata.Sha256]);
        Assert.Equal("t-1", props.Metadata[BlobMetadata.TaskId]);
        Assert.Equal("image/png", props.ContentType);
        Assert.Equal(_smallPng, (await blob.DownloadContentAsync()).Value.Content.ToArray());
        Assert.Empty((await container.GetBlockBlobClient("job1/0.png").GetBlockListAsync(BlockListTypes.All)).Value.CommittedBlocks); // Put Blob, no blocks
    }

    [Theory]
    [InlineData("/small.png")]
    [InlineData("/img.png")]
    public async Task CopyAsync_BlobThatIsNotACopy_NeverOverwritten(string path)
    {
        var (store, container) = await CreateAsync();
        var foreign = container.GetBlobClient("job1/0.png");
        await foreign.UploadAsync(BinaryData.FromString("someone else's file"));

        await Assert.ThrowsAsync<Azure.RequestFailedException>(() => store.CopyAsync(Copy(container, Url(path))));

        Assert.Equal("someone else's file", (await foreign.DownloadContentAsync()).Value.Content.ToString());
    }

    [Fact]
    public async Task CopyAsync_Repeated_WritesOnceAndDownloadsOnce()
    {
        var (store, container) = await CreateAsync();
        var first = await store.CopyAsync(Copy(container, Url("/img.png")));
        var servedAfterFirst = _served;
        var etag = (await container.GetBlobClient("job1/0.png").GetPropertiesAsync()).Value.ETag;

        var second = await store.CopyAsync(Copy(container, Url("/img.png")));

        Assert.True(second.AlreadyStored);
        Assert.Equal(first.Image, second.Image);
        Assert.Equal(servedAfterFirst, _served);
        Assert.Equal(etag, (await container.GetBlobClient("job1/0.png").GetPropertiesAsync()).Value.ETag);
    }

    [Fact]
    public async Task CopyAsync_ExpiredUrl_ReportsPerImageFailure()
    {
        var (store, container) = await CreateAsync();

        var outcome = await store.CopyAsync(Copy(container, Url("/expired.png")));

        Assert.Null(outcome.Image);
        Assert.Equal("ResultUrlExpired", outcome.ErrorCode);
        Assert.False(await container.GetBlobClient("job1/0.png").ExistsAsync());
    }

    [Fact]
    public async Task CopyAsync_NotAnImage_ReportsContentType()
    {
        var (store, container) = await CreateAsync();

        var outcome = await store.CopyAsync(Copy(container, Url("/page")));

        Assert.Equal("UnexpectedContentType", outcome.ErrorCode);
    }

    [Fact]
    public async Task CopyAsync_OverSizeLimit_RefusedWithoutBlob()
    {
        var (store, container) = await CreateAsync();

        var outcome = await store.CopyAsync(Copy(container, Url("/img.png"), max: 1024 * 1024));

        Assert.Equal("ImageTooLarge", outcome.ErrorCode);
        Assert.False(await container.GetBlobClient("job1/0.png").ExistsAsync());
    }

    internal static byte[] FakePng(int width, int height, int totalBytes)
    {
        var bytes = new byte[totalBytes];
        new Random(7).NextBytes(bytes);
        new byte[] { 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a }.CopyTo(bytes, 0);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), 13);
        "IHDR"u8.CopyTo(bytes.AsSpan(12));
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(16), width);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(20), height);
        return bytes;
    }
}
