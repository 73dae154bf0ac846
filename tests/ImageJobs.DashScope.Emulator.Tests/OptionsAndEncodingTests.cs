using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Microsoft.Extensions.Configuration;

namespace ImageJobs.DashScope.Emulator.Tests;

/// <summary>The executable's configuration binding, option validation, and the PNG encoder.</summary>
public sealed class OptionsAndEncodingTests
{
    [Fact]
    public void CommandLine_EmulatorSwitches_BindOptions()
    {
        var configuration = new ConfigurationBuilder()
            .AddDashScopeEmulatorCommandLine(
            [
                "--urls", "http://127.0.0.1:8089", "--api-key", "sk-emulator", "--time-scale", "0.05", "--seed", "1",
                "--reject-over-concurrency", "true", "--submit-error-rate", "0.25", "--data-inspection-trigger", "bomb",
                "--result-url-ttl", "00:05:00", "--enable-limits", "false", "--scale-rate-windows", "true",
                "--data-folder", ".emulator",
            ])
            .Build();

        var options = configuration.GetDashScopeEmulatorOptions();

        Assert.Equal("sk-emulator", options.ApiKey);
        Assert.Equal(0.05, options.TimeScale);
        Assert.Equal(1, options.Seed);
        Assert.True(options.RejectOverConcurrency);
        Assert.Equal(0.25, options.SubmitErrorRate);
        Assert.Equal("bomb", options.DataInspectionTrigger);
        Assert.Equal(TimeSpan.FromMinutes(5), options.ResultUrlTtl);
        Assert.False(options.EnableLimits);
        Assert.True(options.ScaleRateWindows);
        Assert.Equal(".emulator", options.DataFolder);
        Assert.Equal("http://127.0.0.1:8089", configuration["urls"]);
    }

    [Fact]
    public void EnvironmentVariables_DoubleUnderscoreSection_BindOptions()
    {
        Environment.SetEnvironmentVariable("DashScopeEmulator__TimeScale", "0.125");
        Environment.SetEnvironmentVariable("DashScopeEmulator__ImageFailureRate", "0.5");
        try
        {
            var configuration = new ConfigurationBuilder().AddEnvironmentVariables().AddDashScopeEmulatorCommandLine(["--seed", "9"]).Build();

            var options = configuration.GetDashScopeEmulatorOptions();

            Assert.Equal(0.125, options.TimeScale);
            Assert.Equal(0.5, options.ImageFailureRate);
            Assert.Equal(9, options.Seed);
        }
        finally
        {
            Environment.SetEnvironmentVariable("DashScopeEmulator__TimeScale", null);
            Environment.SetEnvironmentVariable("DashScopeEmulator__ImageFailureRate", null);
        }
    }

    [Fact]
    public void CommandLine_OverridesEnvironment()
    {
        Environment.SetEnvironmentVariable("DashScopeEmulator__ApiKey", "sk-from-env");
        try
        {
            var configuration = new ConfigurationBuilder().AddEnvironmentVariables().AddDashScopeEmulatorCommandLine(["--api-key", "sk-from-args"]).Build();

            Assert.Equal("sk-from-args", configuration.GetDashScopeEmulatorOptions().ApiKey);
        }
        finally
        {
            Environment.SetEnvironmentVariable("DashScopeEmulator__ApiKey", null);
        }
    }

    [Fact]
    public void GetOptions_InvalidValues_ThrowsWithClearMessage()
    {
        var configuration = new ConfigurationBuilder().AddDashScopeEmulatorCommandLine(["--time-scale", "0", "--task-failure-rate", "2"]).Build();

        var error = Assert.Throws<InvalidOperationException>(configuration.GetDashScopeEmulatorOptions);

        Assert.Contains("TimeScale must be a positive number", error.Message, StringComparison.Ordinal);
        Assert.Contains("TaskFailureRate must be between 0 and 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_InvalidOptions_Throws()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => DashScopeEmulator.StartAsync(new DashScopeEmulatorOptions { TimeScale = -1 }));
    }

    [Fact]
    public async Task StartAsync_Host_ExposesLoopbackBaseAddressAndOptionsCopy()
    {
        await using var emu = await DashScopeEmulator.StartAsync(new DashScopeEmulatorOptions { TimeScale = 0.01, Seed = 5 });

        Assert.Equal("127.0.0.1", emu.BaseAddress.Host);
        Assert.EndsWith("/api/v1/", emu.BaseAddress.AbsolutePath, StringComparison.Ordinal);
        Assert.NotEqual(0, emu.BaseAddress.Port);
        Assert.Equal(0.01, emu.Options.TimeScale);
        Assert.Equal(5, emu.Options.Seed);
    }

    [Fact]
    public void Crc32_CheckValue_MatchesStandard()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute(Encoding.ASCII.GetBytes("123456789")));
    }

    [Fact]
    public void PngEncoder_Encode_ChunksAndPixelsRoundTrip()
    {
        var rgb = new byte[3 * 2 * 3];
        for (var i = 0; i < rgb.Length; i++)
        {
            rgb[i] = (byte)(i * 13);
        }

        var png = PngEncoder.Encode(3, 2, rgb);

        var chunks = new List<(string Type, byte[] Data)>();
        var offset = 8;
        while (offset < png.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(offset));
            var type = Encoding.ASCII.GetString(png, offset + 4, 4);
            var data = png.AsSpan(offset + 8, length).ToArray();
            var crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(offset + 8 + length));
            Assert.Equal(Crc32.Compute(png.AsSpan(offset + 4, length + 4)), crc);
            chunks.Add((type, data));
            offset += 12 + length;
        }

        Assert.Equal(["IHDR", "IDAT", "IEND"], chunks.Select(c => c.Type));
        Assert.Equal(new byte[] { 0, 0, 0, 3, 0, 0, 0, 2, 8, 2, 0, 0, 0 }, chunks[0].Data);
        using var zlib = new ZLibStream(new MemoryStream(chunks[1].Data), CompressionMode.Decompress);
        using var raw = new MemoryStream();
        zlib.CopyTo(raw);
        var rows = raw.ToArray();
        Assert.Equal(2 * (1 + 9), rows.Length);
        Assert.Equal(rgb[..9], rows[1..10]);
        Assert.Equal(rgb[9..], rows[11..20]);
    }

    [Fact]
    public void PngEncoder_Paint_DifferentHashesDifferentPictures()
    {
        var a = PngEncoder.Paint(64, 32, 1);
        var b = PngEncoder.Paint(64, 32, 2);

        Assert.Equal((64, 32), EmulatorClient.PngSize(a));
        Assert.NotEqual(a, b);
        Assert.Equal(a, PngEncoder.Paint(64, 32, 1));
    }
}
