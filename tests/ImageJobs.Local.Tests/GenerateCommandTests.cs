using ImageJobs.Local;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Testing;

namespace ImageJobs.Local.Tests;

/// <summary>The README's first command: <c>generate</c> with everything embedded (its own Azurite and emulator).</summary>
public sealed class GenerateCommandTests
{
    private static readonly Dictionary<string, string?> FastEmulator = new()
    {
        ["DashScopeEmulator:TimeScale"] = "0.01",
        ["DASHSCOPE_API_KEY"] = "",
    };

    [Fact]
    public async Task RunAsync_WanxJob_SavesEveryImageAndExitsZero()
    {
        var outDir = Path.Combine(Path.GetTempPath(), "imagejobs-generate-" + Guid.NewGuid().ToString("N"));
        using var output = new StringWriter();

        var exit = await GenerateCommand.RunAsync(
            new GenerateRequest { Model = "wanx-v1", Prompt = "a lighthouse at dusk", Parameters = ["n=2", "size=\"720*1280\""], Out = outDir, Settings = FastEmulator },
            RepoPaths.Root, output, CancellationToken.None);

        var text = output.ToString();
        Assert.True(exit == 0, text);
        Assert.Contains("Storage: ", text, StringComparison.Ordinal);
        Assert.Contains("embedded emulator", text, StringComparison.Ordinal);
        Assert.Contains("waiting", text, StringComparison.Ordinal);
        var files = Directory.GetFiles(outDir, "*.png", SearchOption.AllDirectories).Order().ToArray();
        Assert.Equal(2, files.Length);
        foreach (var file in files)
        {
            Assert.Equal((720, 1280), TestImages.PngSize(File.ReadAllBytes(file)));
        }

        Directory.Delete(outDir, recursive: true);
    }

    [Fact]
    public async Task RunAsync_InvalidParameter_ExitsTwoNamingTheField()
    {
        using var output = new StringWriter();

        var exit = await GenerateCommand.RunAsync(
            new GenerateRequest { Model = "qwen-image-plus", Prompt = "p", Parameters = ["n=3"], Settings = FastEmulator },
            RepoPaths.Root, output, CancellationToken.None);

        Assert.Equal(2, exit);
        Assert.Contains("parameters.n", output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("style=\"\\ud800\"", "parameters.style")] // a JSON string holding a lone surrogate escape
    [InlineData("extra={\"\\udfff\":1}", "parameters.extra")]
    [InlineData("seed=1.0", "parameters.seed")]
    public async Task RunAsync_ParameterNoJobCanCarry_ExitsTwoNamingTheField(string parameter, string field)
    {
        using var output = new StringWriter();

        var exit = await GenerateCommand.RunAsync(
            new GenerateRequest { Model = "wanx-v1", Prompt = "p", Parameters = [parameter], Settings = FastEmulator },
            RepoPaths.Root, output, CancellationToken.None);

        Assert.True(exit == 2, output.ToString());
        Assert.Contains(field, output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ProviderFailure_ExitsOneWithTheProvidersCode()
    {
        using var output = new StringWriter();
        var settings = new Dictionary<string, string?>(FastEmulator) { ["DashScopeEmulator:TaskFailureRate"] = "1" };

        var exit = await GenerateCommand.RunAsync(
            new GenerateRequest { Model = "qwen-image", Prompt = "p", Settings = settings },
            RepoPaths.Root, output, CancellationToken.None);

        Assert.Equal(1, exit);
        Assert.Contains("InternalError.Timeout", output.ToString(), StringComparison.Ordinal);
    }
}
