using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ImageJobs.Workflow.Hosting;

namespace ImageJobs.Local;

/// <summary>
/// A private Azurite (blob, queue, table) started from <c>node_modules/.bin/azurite</c>, in memory, on free loopback
/// ports; stopped (with its process tree) on dispose. Used by the local host when no storage is reachable, and by the
/// tests' fixture.
/// </summary>
public sealed class AzuriteProcess : IAsyncDisposable
{
    /// <summary>The well-known development account (public, documented by Microsoft; not a secret).</summary>
    public const string AccountName = StorageClients.DevelopmentAccountName;

    /// <summary>The well-known development account key.</summary>
    public const string AccountKey = StorageClients.DevelopmentAccountKey;

    private readonly Process _process;
    private readonly StringBuilder _output;

    private AzuriteProcess(Process process, StringBuilder output, int blobPort, int queuePort, int tablePort)
    {
        _process = process;
        _output = output;
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
    }

    /// <summary>The blob service port.</summary>
    public int BlobPort { get; }

    /// <summary>The queue service port.</summary>
    public int QueuePort { get; }

    /// <summary>The table service port.</summary>
    public int TablePort { get; }

    /// <summary>What Azurite printed so far (for diagnostics).</summary>
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

    /// <summary>The process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>A full connection string for this instance.</summary>
    public string ConnectionString => ConnectionStringFor(BlobPort, QueuePort, TablePort);

    /// <summary>The connection string of an Azurite on the given ports.</summary>
    public static string ConnectionStringFor(int blobPort, int queuePort, int tablePort) =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{blobPort}/{AccountName};" +
        $"QueueEndpoint=http://127.0.0.1:{queuePort}/{AccountName};" +
        $"TableEndpoint=http://127.0.0.1:{tablePort}/{AccountName};";

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

    /// <summary>Starts Azurite and waits until all three services accept connections.</summary>
    /// <param name="executable">The azurite script (see <see cref="Find"/>).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<AzuriteProcess> StartAsync(string executable, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(executable);
        for (var attempt = 1; ; attempt++)
        {
            int blob = FreePort(), queue = FreePort(), table = FreePort();
            var psi = new ProcessStartInfo(executable)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = Path.GetTempPath(),
            };
            foreach (var arg in new[]
            {
                "--inMemoryPersistence", "--loose", "--skipApiVersionCheck", "--disableProductStyleUrl",
                "--blobHost", "127.0.0.1", "--blobPort", Invariant(blob),
                "--queueHost", "127.0.0.1", "--queuePort", Invariant(queue),
                "--tableHost", "127.0.0.1", "--tablePort", Invariant(table),
            })
            {
                psi.ArgumentList.Add(arg);
            }

            var output = new StringBuilder();
            var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start Azurite.");
            process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
            process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var azurite = new AzuriteProcess(process, output, blob, queue, table);
            if (await azurite.WaitForPortsAsync(TimeSpan.FromSeconds(30), cancellationToken))
            {
                return azurite;
            }

            string log;
            lock (output) { log = output.ToString(); }
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
                if (_process.HasExited || DateTime.UtcNow > deadline)
                {
                    return false;
                }

                await Task.Delay(50, cancellationToken);
            }
        }

        return true;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
