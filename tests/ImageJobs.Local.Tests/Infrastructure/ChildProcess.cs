using System.Diagnostics;
using System.Text;
using ImageJobs.Testing;

namespace ImageJobs.Local.Tests.Infrastructure;

/// <summary>A <c>dotnet {dll}</c> child process whose output is kept, killed on dispose.</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly StringBuilder _output = new();

    private ChildProcess(Process process) => Process = process;

    public Process Process { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The built output of a src project in the configuration these tests were built with.</summary>
    public static string BuiltDll(string project)
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        var path = RepoPaths.Combine("src", project, "bin", configuration, "net10.0", project + ".dll");
        Assert.True(File.Exists(path), $"{path} is not built.");
        return path;
    }

    public static ChildProcess Start(string dll, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment) =>
        Start(dll, arguments, environment, launcher: []);

    /// <summary>
    /// <c>dotnet {dll}</c> run by <paramref name="launcher"/>, a command that ends by exec'ing its arguments (so the
    /// process is dotnet's), e.g. <c>setsid</c>.
    /// </summary>
    public static ChildProcess Start(string dll, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, IReadOnlyList<string> launcher)
    {
        ArgumentNullException.ThrowIfNull(launcher);
        var psi = new ProcessStartInfo(launcher.Count == 0 ? "dotnet" : launcher[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
        };
        foreach (var argument in launcher.Skip(1).Concat(launcher.Count == 0 ? [] : ["dotnet"]))
        {
            psi.ArgumentList.Add(argument);
        }

        psi.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            psi.Environment[key] = value;
        }

        var child = new ChildProcess(Process.Start(psi)!);
        child.Process.OutputDataReceived += (_, e) => child.Append(e.Data);
        child.Process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        child.Process.BeginOutputReadLine();
        child.Process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits until <paramref name="url"/> answers 200 (with the headers of <paramref name="http"/>).</summary>
    public async Task WaitUntilReadyAsync(HttpClient http, string url)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (Process.HasExited)
            {
                Assert.Fail($"The process exited ({Process.ExitCode}):\n{Output}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(url));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{url} did not answer in time:\n{Output}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>SIGKILL: no shutdown code runs. Its children too, unless <paramref name="entireProcessTree"/> is false.</summary>
    public void Kill(bool entireProcessTree = true)
    {
        Process.Kill(entireProcessTree);
        Process.WaitForExit(10_000);
    }

    /// <summary>SIGTERM, as a service manager stops a process: its shutdown code runs.</summary>
    public void Terminate() => Assert.Equal(0, SendSignal(Process.Id, 15));

    /// <summary>Sends <paramref name="signal"/> to the process, or to its whole process group (as a terminal's Ctrl+C does).</summary>
    public void Signal(int signal, bool processGroup = false) => Assert.Equal(0, SendSignal(processGroup ? -Process.Id : Process.Id, signal));

    /// <summary>Whether a process with this id is running (a process this one did not start, e.g. a grandchild).</summary>
    public static bool IsRunning(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>SIGKILL for a process this one did not start; nothing if it is gone.</summary>
    public static void KillProcess(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            process.Kill();
            process.WaitForExit(10_000);
        }
        catch (ArgumentException)
        {
        }
        catch (InvalidOperationException)
        {
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [System.Runtime.InteropServices.DefaultDllImportSearchPaths(System.Runtime.InteropServices.DllImportSearchPath.SafeDirectories)]
    private static extern int SendSignal(int pid, int signal);

    public void Dispose()
    {
        try
        {
            if (!Process.HasExited)
            {
                Kill();
            }
        }
        catch (InvalidOperationException)
        {
        }

        Process.Dispose();
    }

    private void Append(string? line)
    {
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
