using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using ImageJobs.DashScope.Emulator;

namespace ImageJobs.DashScope.Tests.Emulator;

/// <summary>
/// Starts the emulator once per test class (<c>IClassFixture&lt;EmulatorFixture&gt;</c>) with fast time and loose limits.
/// Tests that need their own fault settings start their own emulator with <see cref="EmulatorKit.StartAsync"/>.
/// </summary>
public sealed class EmulatorFixture : IAsyncLifetime
{
    public DashScopeEmulatorHost Emulator { get; private set; } = null!;

    public DashScopeClient Client(Action<DashScopeClientOptions>? configure = null) => EmulatorKit.Client(Emulator, configure);

    public async Task InitializeAsync() => Emulator = await EmulatorKit.StartAsync();

    public async Task DisposeAsync() => await Emulator.DisposeAsync();
}

/// <summary>The result of polling a task to a terminal status.</summary>
public sealed record PollResult(DashScopeTask Task, int Polls, IReadOnlyList<string> StatusesSeen);

/// <summary>A downloaded result image.</summary>
public sealed record DownloadedPng(byte[] Bytes, int Width, int Height);

/// <summary>Helpers of the end-to-end tests: emulator and client set-up, polling, downloads, PNG building and IHDR parsing.</summary>
public static class EmulatorKit
{
    public const string ApiKey = "sk-test";

    /// <summary>Generous: at time scale 0.002 every task ends in well under a second.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(15);
    private static readonly string[] s_lifecycle = ["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED"];
    private static readonly byte[] s_signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly uint[] s_crcTable = BuildCrcTable();

    /// <summary>One HttpClient for the DashScope clients and the result downloads (plain handler: the client un-gzips itself).</summary>
    public static HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Fast time (0.002), the test key, a fixed seed and limits loosened 50× so polling never meets the 20 QPS cap.</summary>
    public static DashScopeEmulatorOptions DefaultOptions() => new()
    {
        TimeScale = 0.002,
        ApiKey = ApiKey,
        Seed = 1,
        LimitScale = 50,
    };

    public static Task<DashScopeEmulatorHost> StartAsync(Action<DashScopeEmulatorOptions>? configure = null, TimeProvider? clock = null)
    {
        var options = DefaultOptions();
        configure?.Invoke(options);
        return DashScopeEmulator.StartAsync(options, clock ?? TimeProvider.System);
    }

    public static DashScopeClient Client(DashScopeEmulatorHost emulator, Action<DashScopeClientOptions>? configure = null)
    {
        var options = new DashScopeClientOptions { Endpoint = emulator.BaseAddress, ApiKey = ApiKey, NetworkTimeout = TimeSpan.FromSeconds(20) };
        configure?.Invoke(options);
        return new DashScopeClient(Http, options);
    }

    /// <summary>Polls <c>GET /tasks/{id}</c> until the status is terminal; fails with the statuses seen after <see cref="Deadline"/>.
    /// Retryable errors (429 from the query QPS cap) are waited out, not counted as polls.</summary>
    public static async Task<PollResult> PollUntilTerminalAsync(DashScopeClient client, string taskId, TimeSpan? deadline = null)
    {
        var limit = deadline ?? Deadline;
        var clock = Stopwatch.StartNew();
        var seen = new List<string>();
        var polls = 0;
        while (true)
        {
            DashScopeTask task;
            try
            {
                task = await client.GetTaskAsync(taskId);
                polls++;
            }
            catch (DashScopeException ex) when (ex.IsRetryable && clock.Elapsed < limit)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100));
                continue;
            }

            Assert.Equal(taskId, task.TaskId);
            if (seen.Count == 0 || seen[^1] != task.Status.Value)
            {
                seen.Add(task.Status.Value);
            }

            if (task.Status.IsTerminal)
            {
                return new PollResult(task, polls, seen);
            }

            if (clock.Elapsed > limit)
            {
                throw new TimeoutException(
                    $"Task {taskId} was not terminal after {limit.TotalSeconds:0} s and {polls} polls; statuses seen: {string.Join(" → ", seen)}.");
            }

            await Task.Delay(s_pollInterval);
        }
    }

    /// <summary>Submits, polls to the end and asserts SUCCEEDED along the documented lifecycle.</summary>
    public static async Task<DashScopeTask> RunToSuccessAsync(DashScopeClient client, DashScopeImageRequest request)
    {
        var submission = await client.SubmitAsync(request);
        Assert.Equal(DashScopeTaskStatus.Pending, submission.Status);
        Assert.False(string.IsNullOrEmpty(submission.RequestId));
        var result = await PollUntilTerminalAsync(client, submission.TaskId);
        AssertLifecycle(result.StatusesSeen);
        Assert.True(result.Task.Status == DashScopeTaskStatus.Succeeded,
            $"Task {submission.TaskId} ended {result.Task.Status} ({result.Task.Code}: {result.Task.Message}); seen {string.Join(" → ", result.StatusesSeen)}.");
        Assert.NotNull(result.Task.SubmitTime);
        Assert.NotNull(result.Task.ScheduledTime);
        Assert.NotNull(result.Task.EndTime);
        Assert.True(result.Task.EndTime >= result.Task.ScheduledTime && result.Task.ScheduledTime >= result.Task.SubmitTime,
            $"Timestamps out of order: submit {result.Task.SubmitTime:O}, scheduled {result.Task.ScheduledTime:O}, end {result.Task.EndTime:O}.");
        return result.Task;
    }

    /// <summary>Statuses only move forward: PENDING → RUNNING → one terminal status.</summary>
    public static void AssertLifecycle(IReadOnlyList<string> seen)
    {
        var ranks = seen.Select(s => Array.IndexOf(s_lifecycle, s)).ToList();
        Assert.DoesNotContain(-1, ranks);
        Assert.True(ranks.SequenceEqual(ranks.Order()), $"Statuses went backwards: {string.Join(" → ", seen)}.");
        Assert.True(ranks.Count(r => r >= 2) == 1 && ranks[^1] >= 2, $"Expected exactly one terminal status at the end: {string.Join(" → ", seen)}.");
    }

    /// <summary>Downloads a result URL; asserts 200 image/png and a PNG with a readable IHDR.</summary>
    public static async Task<DownloadedPng> DownloadPngAsync(string url)
    {
        using var response = await Http.GetAsync(new Uri(url));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK,
            $"GET {url} answered {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(bytes.AsSpan(0, Math.Min(bytes.Length, 300)))}");
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        var (width, height) = ReadIhdr(bytes);
        return new DownloadedPng(bytes, width, height);
    }

    /// <summary>Downloads every result URL and asserts each is a PNG of <paramref name="width"/>×<paramref name="height"/>.</summary>
    public static async Task AssertImagesAsync(IEnumerable<string> urls, int width, int height)
    {
        foreach (var url in urls)
        {
            var png = await DownloadPngAsync(url);
            Assert.True((png.Width, png.Height) == (width, height), $"{url} is {png.Width}×{png.Height}, expected {width}×{height}.");
        }
    }

    /// <summary>Reads width and height from a PNG's IHDR, checking the signature, the chunk layout, its CRC and the final IEND.</summary>
    public static (int Width, int Height) ReadIhdr(byte[] png)
    {
        Assert.True(png.Length >= 8 + 25 + 12, $"Too short for a PNG: {png.Length} bytes.");
        Assert.True(png.AsSpan(0, 8).SequenceEqual(s_signature), "Not a PNG signature.");
        Assert.Equal(13, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(8)));
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        var crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(29));
        Assert.True(Crc32(png.AsSpan(12, 17)) == crc, "IHDR CRC mismatch.");
        Assert.Equal("IEND", System.Text.Encoding.ASCII.GetString(png, png.Length - 8, 4));
        var width = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16));
        var height = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20));
        Assert.True(width > 0 && height > 0, $"IHDR has {width}×{height}.");
        return (width, height);
    }

    /// <summary>A valid grayscale PNG of the given size (a diagonal gradient; a few KB even at 1000 px).</summary>
    public static byte[] BuildPng(int width, int height)
    {
        using var png = new MemoryStream();
        png.Write(s_signature);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth; colour type 0 (grayscale), compression/filter/interlace 0
        WriteChunk(png, "IHDR", ihdr);
        using (var idat = new MemoryStream())
        {
            using (var zlib = new ZLibStream(idat, CompressionLevel.Optimal, leaveOpen: true))
            {
                var row = new byte[width + 1]; // filter byte 0, then one byte per pixel
                for (var y = 0; y < height; y++)
                {
                    for (var x = 0; x < width; x++)
                    {
                        row[x + 1] = (byte)((x + y) / 8);
                    }

                    zlib.Write(row);
                }
            }

            WriteChunk(png, "IDAT", idat.ToArray());
        }

        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>A PNG data URI (the client's own encoder, which sniffs the type from the bytes).</summary>
    public static string PngDataUri(int width, int height) => DashScopeImageData.ToDataUri(BuildPng(width, height));

    private static void WriteChunk(Stream stream, string type, byte[] data)
    {
        var header = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
        System.Text.Encoding.ASCII.GetBytes(type, header.AsSpan(4));
        stream.Write(header);
        stream.Write(data);
        var crcInput = new byte[4 + data.Length];
        header.AsSpan(4).CopyTo(crcInput);
        data.CopyTo(crcInput, 4);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(crcInput));
        stream.Write(crc);
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc = s_crcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc ^ 0xFFFFFFFFu;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
