using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Storage;

namespace ImageJobs.Local;

/// <summary>
/// A private Azurite (blob, queue, table) started from <c>node_modules/.bin/azurite</c> on free loopback ports, in memory
/// or persisted to a folder (there on the ports it had before, when they are free); stopped on dispose. It runs in a
/// process group of its own, so a terminal's Ctrl+C reaches the host and not Azurite, and it ends by itself when the
/// process that started it dies (even by SIGKILL), so a crashed host leaves no orphan. An Azurite already running on the
/// same folder is reused rather than started twice. Used by the local host when no storage is reachable, and by the
/// tests' fixture.
/// </summary>
public sealed class AzuriteProcess : IAsyncDisposable
{
    /// <summary>The file in a persisted Azurite's folder that records which process serves it, on which ports.</summary>
    public const string StateFileName = "imagejobs-azurite.json";

    // Preloaded into Azurite's node process: when the process that started it is gone (node sees a new parent), it
    // sends itself SIGTERM, so Azurite closes its databases as on Ctrl+C, and exits for good 5 s later if that hangs.
    // Output first goes nowhere: the dead parent held the pipes, and Azurite's "closing" lines would otherwise end
    // it with EPIPE before it has saved anything.
    private const string ParentWatchdog = """
        const parent = process.ppid;
        const timer = setInterval(() => {
          if (process.ppid !== parent) {
            clearInterval(timer);
            for (const stream of [process.stdout, process.stderr]) {
              stream.on("error", () => {});
              stream.write = () => true;
            }
            process.kill(process.pid, "SIGTERM");
            setTimeout(() => process.exit(1), 5000).unref();
          }
        }, 250);
        timer.unref();
        """;

    // Runs its arguments in a process group of its own: setpgid, then exec (so the process is the command's own).
    private const string OwnProcessGroup = "setpgrp(0, 0) or die \"setpgrp: $!\"; exec { $ARGV[0] } @ARGV or die \"exec: $!\"";

    // perl, which Debian counts essential and macOS ships; .NET's Process cannot set a child's process group itself.
    private static readonly Lazy<string?> Perl = new(() => OperatingSystem.IsWindows() ? null
        : (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, "perl")).FirstOrDefault(File.Exists));
    /// <summary>The well-known development account (public, documented by Microsoft; not a secret).</summary>
    public const string AccountName = StorageClients.DevelopmentAccountName;

    /// <summary>The well-known development account key.</summary>
    public const string AccountKey = StorageClients.DevelopmentAccountKey;

    /// <summary>How many of Azurite's last output lines are kept for diagnostics.</summary>
    public const int OutputLinesKept = 200;

    private readonly Process _process;
    private readonly OutputTail _output;

    private AzuriteProcess(Process process, OutputTail output, int blobPort, int queuePort, int tablePort, string? location, bool owned,
        (int Blob, int Queue, int Table)? recordedPorts = null)
    {
        _process = process;
        _output = output;
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
        Location = location;
        Owned = owned;
        RecordedPorts = recordedPorts;
    }

    /// <summary>The folder Azurite persists to; <see langword="null"/> when it keeps everything in memory.</summary>
    public string? Location { get; }

    /// <summary>
    /// Whether this instance started the process (and stops it on dispose); <see langword="false"/> when it found one
    /// already serving <see cref="Location"/>.
    /// </summary>
    public bool Owned { get; }

    /// <summary>The blob service port.</summary>
    public int BlobPort { get; }

    /// <summary>The queue service port.</summary>
    public int QueuePort { get; }

    /// <summary>The table service port.</summary>
    public int TablePort { get; }

    /// <summary>
    /// The ports <see cref="Location"/>'s <see cref="StateFileName"/> recorded from the Azurite that served it before,
    /// when there was one. A persisted Azurite takes them again when they are free, because what was stored may name
    /// them (the task hub keeps a large input as a blob and records its URL); they differ from this one's ports only
    /// when one of them was taken.
    /// </summary>
    public (int Blob, int Queue, int Table)? RecordedPorts { get; }

    /// <summary>
    /// The last <see cref="OutputLinesKept"/> lines Azurite printed (for diagnostics). It runs with <c>--silent</c>, so
    /// they are its start and stop messages and errors, not a line per request: kept, those would cost this process
    /// memory for as long as it runs, and Azurite a synchronous pipe write per request.
    /// </summary>
    public string Output => _output.ToString();

    /// <summary>The process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>A full connection string for this instance.</summary>
    public string ConnectionString => ConnectionStringFor(BlobPort, QueuePort, TablePort);

    /// <summary>The connection string of an Azurite on the given ports.</summary>
    public static string ConnectionStringFor(int blobPort, int queuePort, int tablePort) =>
        StorageClients.DevelopmentConnectionStringFor(blobPort, queuePort, tablePort);

    /// <summary>Finds <c>node_modules/.bin/azurite</c> in <paramref name="start"/> or a folder above it.</summary>
    public static string? Find(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "node_modules", ".bin", "azurite");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>
    /// Starts Azurite and waits until all three services accept connections. With a <paramref name="location"/>, an
    /// Azurite that already serves that folder (its <see cref="StateFileName"/> names a live process that answers) is
    /// returned instead, not owned; one that no longer answers is stopped first, so two never share a folder. A new
    /// Azurite on a folder takes the ports recorded there when they are all free (<see cref="RecordedPorts"/>), else free
    /// ports.
    /// </summary>
    /// <param name="executable">The azurite script (see <see cref="Find"/>).</param>
    /// <param name="location">The folder to persist to; <see langword="null"/> to keep everything in memory.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<AzuriteProcess> StartAsync(string executable, string? location = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(executable);
        AzuriteState? recorded = null;
        if (location is not null)
        {
            location = Path.GetFullPath(location);
            Directory.CreateDirectory(location);
            recorded = await ReadStateAsync(location, cancellationToken);
            if (recorded is not null && await RunningOnAsync(location, recorded, cancellationToken) is { } running)
            {
                return running;
            }
        }

        var watchdog = Path.Combine(Path.GetTempPath(), "imagejobs-azurite-parent-watchdog.js");
        if (!File.Exists(watchdog) || await File.ReadAllTextAsync(watchdog, cancellationToken) != ParentWatchdog)
        {
            // Written beside and moved into place: an Azurite starting at the same moment never reads half a file.
            var staged = $"{watchdog}.{Guid.NewGuid():N}";
            await File.WriteAllTextAsync(staged, ParentWatchdog, cancellationToken);
            File.Move(staged, watchdog, overwrite: true);
        }

        for (var attempt = 1; ; attempt++)
        {
            var (blob, queue, table) = attempt == 1 && recorded is not null && ArePortsFree(recorded.BlobPort, recorded.QueuePort, recorded.TablePort)
                ? (recorded.BlobPort, recorded.QueuePort, recorded.TablePort)
                : (FreePort(), FreePort(), FreePort());
            // In a process group of its own: a terminal's Ctrl+C goes to the foreground process group, and Azurite ending
            // on it with the host would pull storage from under the host's orderly stop (which ends Azurite last). Not in
            // a session of its own (setsid): that gives it a scheduling autogroup of its own, which changes how the CPU is
            // shared under load (docs/benchmarks-notes.md).
            var perl = Perl.Value;
            var psi = new ProcessStartInfo(perl ?? executable)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = Path.GetTempPath(),
            };
            if (perl is not null)
            {
                psi.ArgumentList.Add("-e");
                psi.ArgumentList.Add(OwnProcessGroup);
                psi.ArgumentList.Add(executable);
            }

            string[] persistence = location is null ? ["--inMemoryPersistence"] : ["--location", location];
            foreach (var arg in persistence.Concat(
            [
                "--silent", "--loose", "--skipApiVersionCheck", "--disableProductStyleUrl", "--disableTelemetry",
                "--blobHost", "127.0.0.1", "--blobPort", Invariant(blob),
                "--queueHost", "127.0.0.1", "--queuePort", Invariant(queue),
                "--tableHost", "127.0.0.1", "--tablePort", Invariant(table),
            ]))
            {
                psi.ArgumentList.Add(arg);
            }

            // The watchdog goes first; options the user set for node (a profiler, a heap limit) are kept after it.
            var nodeOptions = Environment.GetEnvironmentVariable("NODE_OPTIONS");
            psi.Environment["NODE_OPTIONS"] = string.IsNullOrWhiteSpace(nodeOptions) ? $"--require {watchdog}" : $"--require {watchdog} {nodeOptions}";

            var output = new OutputTail(OutputLinesKept);
            var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start Azurite.");
            process.OutputDataReceived += (_, e) => output.Add(e.Data);
            process.ErrorDataReceived += (_, e) => output.Add(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var azurite = new AzuriteProcess(process, output, blob, queue, table, location, owned: true,
                recorded is null ? null : (recorded.BlobPort, recorded.QueuePort, recorded.TablePort));
            if (await azurite.WaitForPortsAsync(TimeSpan.FromSeconds(30), cancellationToken))
            {
                if (location is not null)
                {
                    await File.WriteAllTextAsync(Path.Combine(location, StateFileName),
                        JsonSerializer.Serialize(new AzuriteState(process.Id, blob, queue, table)), cancellationToken);
                }

                return azurite;
            }

            var log = output.ToString();
            await azurite.DisposeAsync();
            if (attempt == 3)
            {
                throw new InvalidOperationException("Azurite did not start:\n" + log);
            }
        }
    }

    /// <summary>Whether something accepts TCP connections at <paramref name="endpoint"/> within <paramref name="timeout"/>.</summary>
    public static async Task<bool> IsReachableAsync(Uri endpoint, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(endpoint.Host, endpoint.Port, cts.Token);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<bool> WaitForPortsAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        foreach (var port in new[] { BlobPort, QueuePort, TablePort })
        {
            while (!await IsReachableAsync(new Uri($"http://127.0.0.1:{port}"), TimeSpan.FromSeconds(1)))
            {
                if ((Owned && _process.HasExited) || DateTime.UtcNow > deadline)
                {
                    return false;
                }

                await Task.Delay(50, cancellationToken);
            }
        }

        return true;
    }

    /// <summary>
    /// Stops the process if this instance started it: an in-memory Azurite is killed (nothing to keep); a persisted one
    /// gets SIGTERM, so it closes its databases, and is killed once it says all three services closed (their data is
    /// saved by then) or, failing that, after 10 s: once closed it may linger for seconds (its timers, its clients' open
    /// connections) before it exits, which would hold up the host's stop (docs/benchmarks-notes.md).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Owned)
        {
            await StopAsync(_process, graceful: Location is not null, _output.ServicesClosed);
        }

        _process.Dispose();
    }

    private static async Task StopAsync(Process process, bool graceful, Task? servicesClosed = null)
    {
        if (graceful)
        {
            await ProcessSignals.StopAsync(process, TimeSpan.FromSeconds(10), servicesClosed);
        }
        else
        {
            await ProcessSignals.KillAsync(process);
        }
    }

    /// <summary>What <paramref name="location"/>'s state file records, if it has a readable one.</summary>
    private static async Task<AzuriteState?> ReadStateAsync(string location, CancellationToken cancellationToken)
    {
        try
        {
            return JsonSerializer.Deserialize<AzuriteState>(await File.ReadAllTextAsync(Path.Combine(location, StateFileName), cancellationToken));
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The Azurite that <paramref name="location"/>'s state file names, if it still runs and answers.</summary>
    private static async Task<AzuriteProcess?> RunningOnAsync(string location, AzuriteState state, CancellationToken cancellationToken)
    {
        Process process;
        try
        {
            process = Process.GetProcessById(state.ProcessId);
        }
        catch (ArgumentException)
        {
            return null; // gone
        }

        // Another program may have the id by now: only a node process running azurite counts.
        var commandLine = File.Exists($"/proc/{state.ProcessId}/cmdline") ? await File.ReadAllTextAsync($"/proc/{state.ProcessId}/cmdline", cancellationToken) : string.Empty;
        if (process.HasExited || !commandLine.Contains("azurite", StringComparison.Ordinal))
        {
            process.Dispose();
            return null;
        }

        var running = new AzuriteProcess(process, new OutputTail(OutputLinesKept), state.BlobPort, state.QueuePort, state.TablePort, location, owned: false,
            (state.BlobPort, state.QueuePort, state.TablePort));
        if (await running.WaitForPortsAsync(TimeSpan.FromSeconds(2), cancellationToken))
        {
            return running;
        }

        await StopAsync(process, graceful: true);
        process.Dispose();
        return null;
    }

    private sealed record AzuriteState(int ProcessId, int BlobPort, int QueuePort, int TablePort);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    // Whether Azurite could listen on each port: bound as node binds (SO_REUSEADDR, so the connections a stopped Azurite
    // left in TIME_WAIT do not count; a listener does).
    private static bool ArePortsFree(params int[] ports)
    {
        foreach (var port in ports)
        {
            if (port is < 1 or > 65535)
            {
                return false;
            }

            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            try
            {
                listener.Start();
            }
            catch (SocketException)
            {
                return false;
            }
        }

        return true;
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The last lines of a process's output, at most a fixed number; and whether Azurite said its services closed.</summary>
    private sealed class OutputTail(int capacity)
    {
        // Azurite prints "Azurite Blob service successfully closed" (Queue, Table) once a service has closed its stores.
        private static readonly string[] Services = ["Blob", "Queue", "Table"];

        private readonly Queue<string> _lines = new(capacity);
        private readonly HashSet<string> _closed = [];
        private readonly TaskCompletionSource _servicesClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when Azurite has said that its blob, queue and table services closed.</summary>
        public Task ServicesClosed => _servicesClosed.Task;

        /// <summary>Adds a line, dropping the oldest when full; <see langword="null"/> (the stream's end) is ignored.</summary>
        public void Add(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_lines)
            {
                foreach (var service in Services)
                {
                    if (line.Contains($"Azurite {service} service successfully closed", StringComparison.Ordinal) && _closed.Add(service)
                        && _closed.Count == Services.Length)
                    {
                        _servicesClosed.TrySetResult();
                    }
                }

                if (_lines.Count == capacity)
                {
                    _lines.Dequeue();
                }

                _lines.Enqueue(line);
            }
        }

        /// <inheritdoc />
        public override string ToString()
        {
            lock (_lines)
            {
                return string.Join(Environment.NewLine, _lines);
            }
        }
    }
}
