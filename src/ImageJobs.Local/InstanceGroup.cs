using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using ImageJobs.Workflow.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace ImageJobs.Local;

/// <summary>
/// <c>serve --instances N</c>: N cooperating local hosts on one storage account and one task hub, so scale-out can be
/// watched on one machine. This process prepares storage (its Azurite, or the configured account) and DashScope (the
/// embedded emulator, or the real service) once, runs instance 1 itself and starts instances 2…N as child <c>serve</c>
/// processes of the same executable, on the next ports, with the prepared settings in their environment (never on a
/// command line, and never printed). Each instance is a whole host: the jobs API, the queue trigger, the uploads scanner
/// and its own task hub worker (its own partition leases, <see cref="Durable.LocalRecovery"/>). A child that dies is
/// reported and not restarted: the others take over its jobs when its leases expire. Ctrl+C or SIGTERM stops the children,
/// then this process; a child whose parent is gone stops by itself.
/// </summary>
public sealed partial class InstanceGroup : IAsyncDisposable
{
    /// <summary>Set in a child's environment: its instance number and the group size, e.g. <c>2/3</c>.</summary>
    public const string InstanceVariable = "IMAGEJOBS_INSTANCE";

    /// <summary>Set in a child's environment: the process id of the instance that started it (the child stops when it is gone).</summary>
    public const string ParentProcessVariable = "IMAGEJOBS_PARENT_PID";

    /// <summary>The most instances one <c>serve</c> starts.</summary>
    public const int MaxInstances = 16;

    /// <summary>How long a child may take to stop after SIGTERM before it is killed.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(30);

    /// <summary>How long a child may take to start listening.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    private readonly List<Child> _children = [];
    private volatile bool _stopping;

    private InstanceGroup()
    {
    }

    /// <summary>
    /// The address instance <paramref name="instance"/> (1-based) of a group listens on: <paramref name="urls"/> with its
    /// port raised by <c>instance - 1</c>. Null with a reason when <paramref name="urls"/> is not one address with a port.
    /// </summary>
    public static string? AddressOf(string urls, int instance, out string? error)
    {
        ArgumentNullException.ThrowIfNull(urls);
        var match = SingleAddress().Match(urls.Trim());
        if (!match.Success)
        {
            error = $"--instances needs one --urls address with an explicit port, e.g. http://127.0.0.1:7071 (got '{urls}'); instance n listens on that port + n - 1.";
            return null;
        }

        var port = int.Parse(match.Groups["port"].Value, CultureInfo.InvariantCulture) + instance - 1;
        if (port is < 1 or > 65535 || match.Groups["port"].Value == "0")
        {
            error = $"--urls {urls}: instance {instance} would need port {port}; give a port from 1 to {65536 - instance}.";
            return null;
        }

        error = null;
        return $"{match.Groups["prefix"].Value}{port.ToString(CultureInfo.InvariantCulture)}{match.Groups["rest"].Value}";
    }

    /// <summary>Runs the group until Ctrl+C or SIGTERM; 0 when it stopped in order, 1 when an instance failed to start, 2 for bad options.</summary>
    public static async Task<int> RunAsync(string urls, int count, string root, CancellationToken cancellationToken)
    {
        var addresses = new List<string>();
        for (var i = 1; i <= count; i++)
        {
            if (AddressOf(urls, i, out var error) is not { } address)
            {
                await Console.Error.WriteLineAsync(error);
                return 2;
            }

            addresses.Add(address);
        }

        // The same configuration every instance reads: local.settings.json beneath the environment.
        var configuration = new ConfigurationManager();
        configuration.AddEnvironmentVariables();
        LocalEnvironment.AddLocalSettings(configuration, root);
        await using var shared = await LocalEnvironment.PrepareAsync(root, configuration, inMemoryStorage: false, cancellationToken);
        foreach (var note in shared.Notes)
        {
            Console.WriteLine(note);
        }

        var settings = new Dictionary<string, string?>(shared.Settings, StringComparer.OrdinalIgnoreCase);
        // One key for every instance, so a client can talk to any of them.
        var key = LocalFunctionKey.Get(configuration, root, out var keptIn);
        if (keptIn is not null)
        {
            Console.WriteLine($"Function key, the same on all {count} instances: {key} (kept in {keptIn}; {LocalApp.FunctionKeySetting} overrides it)");
        }

        settings[LocalApp.FunctionKeySetting] = key;

        await using var group = new InstanceGroup();
        try
        {
            for (var i = 2; i <= count; i++)
            {
                group.StartChild(i, count, addresses[i - 1], root, settings);
            }

            var (app, environment) = await LocalApp.BuildAsync(new LocalAppOptions { Root = root, Urls = addresses[0], Overrides = settings }, cancellationToken);
            await using var _ = environment;
            await using var __ = app;
            await app.StartAsync(cancellationToken);
            Console.WriteLine($"Instance 1 (this process, pid {Environment.ProcessId}) is listening on {string.Join(", ", app.Urls)}.");
            if (!await group.WaitUntilListeningAsync(cancellationToken))
            {
                await group.StopAsync();
                await app.StopAsync(CancellationToken.None);
                return 1;
            }

            Console.WriteLine($"ImageJobs: {count} instances on task hub '{environment.TaskHub!.Settings.TaskHubName}', one storage account; the jobs API ({JobsRoutes.JobsPath}) on each. Ctrl+C stops them all.");
            Console.WriteLine($"  instance 1: {string.Join(", ", app.Urls)} (pid {Environment.ProcessId}, worker {environment.TaskHub.Settings.WorkerId})");
            foreach (var child in group._children)
            {
                Console.WriteLine($"  instance {child.Number}: {child.Address} (pid {child.ProcessId}, worker {Durable.LocalRecovery.WorkerIdOf(child.ProcessId)})");
            }

            var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (cancellationToken.Register(() => stop.TrySetResult()))
            using (app.Lifetime.ApplicationStopping.Register(() => stop.TrySetResult()))
            {
                await stop.Task;
            }

            await group.StopAsync();
            await app.StopAsync(CancellationToken.None);
            return 0;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await group.StopAsync();
            return 0;
        }
    }

    /// <summary>Stops every child still running (SIGTERM, then a kill after <see cref="StopGrace"/>).</summary>
    public async Task StopAsync()
    {
        _stopping = true;
        await Task.WhenAll(_children.Select(async child =>
        {
            if (!await ProcessSignals.StopAsync(child.Process, StopGrace))
            {
                await Console.Error.WriteLineAsync($"Instance {child.Number} (pid {child.ProcessId}) did not stop within {StopGrace.TotalSeconds:0} s and was killed.");
            }
        }));
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        foreach (var child in _children)
        {
            child.Process.Dispose();
        }
    }

    private void StartChild(int number, int count, string address, string root, IReadOnlyDictionary<string, string?> settings)
    {
        var (file, prefix) = SelfCommand();
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in prefix.Concat(["serve", "--urls", address, "--root", root]))
        {
            psi.ArgumentList.Add(argument);
        }

        // Configuration keys as environment variables ("A:B" is "A__B"); the DashScope key among them stays off the
        // command line and out of the output.
        foreach (var (name, value) in settings)
        {
            psi.Environment[name.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        psi.Environment[InstanceVariable] = $"{number.ToString(CultureInfo.InvariantCulture)}/{count.ToString(CultureInfo.InvariantCulture)}";
        psi.Environment[ParentProcessVariable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var child = new Child(number, address, process);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data, Console.Out);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data, Console.Error);
        process.Exited += (_, _) => OnExited(child);
        process.Start();
        child.ProcessId = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _children.Add(child);
    }

    private async Task<bool> WaitUntilListeningAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        foreach (var child in _children)
        {
            bool listening;
            try
            {
                var left = deadline - DateTime.UtcNow;
                listening = await child.Listening.Task.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken);
            }
            catch (TimeoutException)
            {
                listening = false;
            }

            if (!listening)
            {
                await Console.Error.WriteLineAsync(child.Process.HasExited
                    ? $"Instance {child.Number} exited while starting (code {child.Process.ExitCode}); stopping the others."
                    : $"Instance {child.Number} was not listening after {StartTimeout.TotalMinutes:0} minutes; stopping the others.");
                return false;
            }
        }

        return true;
    }

    private void OnExited(Child child)
    {
        // One that never listened is reported by the start (WaitUntilListeningAsync).
        var wasListening = !child.Listening.TrySetResult(false);
        if (_stopping || !wasListening)
        {
            return;
        }

        int code;
        try
        {
            code = child.Process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            code = -1;
        }

        Console.Error.WriteLine(
            $"Instance {child.Number} (pid {child.ProcessId}, {child.Address}) exited with code {code}. It is not restarted: the other instances "
            + "take over its jobs once its partition leases and queue messages expire (about 10-15 s).");
    }

    // The command that started this process: the apphost itself, or `dotnet ImageJobs.Local.dll`.
    private static (string File, string[] Prefix) SelfCommand()
    {
        var path = Environment.ProcessPath ?? throw new InvalidOperationException("The path of this executable is unknown.");
        var entry = Assembly.GetEntryAssembly()?.Location;
        return Path.GetFileNameWithoutExtension(path).Equals("dotnet", StringComparison.OrdinalIgnoreCase) && !string.IsNullOrEmpty(entry)
            ? (path, [entry])
            : (path, []);
    }

    [GeneratedRegex(@"^(?<prefix>https?://[^/;,\s]+:)(?<port>[0-9]{1,5})(?<rest>/?)$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex SingleAddress();

    private sealed class Child(int number, string address, Process process)
    {
        public int Number { get; } = number;

        public string Address { get; } = address;

        public Process Process { get; } = process;

        public int ProcessId { get; set; }

        public TaskCompletionSource<bool> Listening { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnLine(string? line, TextWriter to)
        {
            if (line is null)
            {
                return;
            }

            to.WriteLine($"[instance {Number.ToString(CultureInfo.InvariantCulture)}] {line}");
            if (line.StartsWith(ServeCommand.ListeningLine, StringComparison.Ordinal))
            {
                Listening.TrySetResult(true);
            }
        }
    }
}
