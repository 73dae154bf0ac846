using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace ImageJobs.Infra.Tests;

/// <summary>
/// infra/ compiled and linted by the real bicep CLI (the Azure.Bicep.CommandLine.linux-x64 package the test project
/// downloads): any error or warning fails.
/// </summary>
public sealed class BicepCliTests : IDisposable
{
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("imagejobs-bicep-");

    public void Dispose() => _scratch.Delete(recursive: true);

    [Fact]
    public async Task Build_MainBicep_CompilesToAnArmTemplateWithoutDiagnostics()
    {
        var output = Path.Combine(_scratch.FullName, "main.json");

        var run = await Bicep.RunAsync("build", Repo.PathOf("infra", "main.bicep"), "--outfile", output);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Empty(run.Diagnostics);
        using var template = JsonDocument.Parse(await File.ReadAllTextAsync(output));
        var root = template.RootElement;
        Assert.EndsWith("/subscriptionDeploymentTemplate.json#", root.GetProperty("$schema").GetString(), StringComparison.Ordinal);
        Assert.True(root.GetProperty("outputs").TryGetProperty("AZURE_FUNCTION_APP_NAME", out _)); // what azd deploys to
    }

    [Fact]
    public async Task Lint_MainBicep_HasNoWarnings()
    {
        var run = await Bicep.RunAsync("lint", Repo.PathOf("infra", "main.bicep"));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Empty(run.Diagnostics);
    }

    [Fact]
    public async Task Lint_AFileWithAnUnusedParameter_IsReportedAsAWarning()
    {
        // The check above can fail: the same run over a file the linter objects to yields its diagnostic.
        var file = Path.Combine(_scratch.FullName, "bad.bicep");
        await File.WriteAllTextAsync(file, "param unused string\noutput answer int = 42\n");

        var run = await Bicep.RunAsync("lint", file);

        Assert.Contains(run.Diagnostics, d => d.Contains("Warning no-unused-params", StringComparison.Ordinal));
    }

    private sealed record BicepRun(int ExitCode, string Output, IReadOnlyList<string> Diagnostics)
    {
        public override string ToString() => $"bicep exited {ExitCode}:\n{Output}";
    }

    private static class Bicep
    {
        private static readonly string Cli = typeof(BicepCliTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "BicepCli").Value!;

        public static async Task<BicepRun> RunAsync(params string[] arguments)
        {
            Assert.True(File.Exists(Cli), $"The bicep CLI is missing at {Cli}: the test project's restore downloads it.");
            var start = new ProcessStartInfo(Cli)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Repo.Root,
            };
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            // No telemetry and no look-ups of external module registries: infra uses local modules only.
            start.Environment["BICEP_TRACING_ENABLED"] = "false";
            start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            using var process = Process.Start(start)!;
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            var output = await stdout + await stderr;
            var diagnostics = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Where(line => line.Contains(" : Warning ", StringComparison.Ordinal) || line.Contains(" : Error ", StringComparison.Ordinal))
                .ToList();
            return new BicepRun(process.ExitCode, output, diagnostics);
        }
    }
}
