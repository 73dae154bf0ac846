using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

using Xunit;

namespace ImageJobs.Testing;

/// <summary>
/// Starts a private Azurite (blob, queue, table) from <c>node_modules/.bin/azurite</c>, in memory, on free loopback ports,
/// and stops it on dispose. Use it as an xunit class or collection fixture; nothing depends on a server started by hand.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    /// <summary>The well-known development account (public, documented by Microsoft; not a secret).</summary>
    public const string AccountName = "devstoreaccount1";

    /// <summary>The well-known development account key.</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private Process? _process;
    private readonly StringBuilder _output = new();

    /// <summary>The blob service port.</summary>
    public int BlobPort { get; private set; }

    /// <summary>The queue service port.</summary>
    public int QueuePort { get; private set; }

    /// <summary>The table service port.</summary>
    public int TablePort { get; private set; }

    /// <summary>A full connection string for this Azurite instance.</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/{AccountName};" +
        $"QueueEndpoint=http://127.0.0.1:{QueuePort}/{AccountName};" +
        $"TableEndpoint=http://127.0.0.1:{TablePort}/{AccountName};";

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        var azurite = RepoPaths.Combine("node_modules", ".bin", "azurite");
        if (!File.Exists(azurite))
        {
            throw new InvalidOperationException($"Azurite is not installed at {azurite}. Run 'npm ci' at the repository root.");
        }

        for (var attempt = 1; ; attempt++)
        {
            BlobPort = FreePort.Next();
            QueuePort = FreePort.Next();
            TablePort = FreePort.Next();
            var psi = new ProcessStartInfo(azurite)
            {
                ArgumentList =
                {
                    "--inMemoryPersistence", "--loose", "--skipApiVersionCheck", "--disableProductStyleUrl",
                    "--blobHost", "127.0.0.1", "--blobPort", BlobPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--queueHost", "127.0.0.1", "--queuePort", QueuePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--tableHost", "127.0.0.1", "--tablePort", TablePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = Path.GetTempPath(),
            };
            _process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start Azurite.");
            _process.OutputDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
            _process.ErrorDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();

            if (await WaitForPortsAsync(TimeSpan.FromSeconds(30)))
            {
                return;
            }

            string log;
            lock (_output) { log = _output.ToString(); }
            await DisposeAsync();
            if (attempt == 3)
            {
                throw new InvalidOperationException("Azurite did not start:\n" + log);
            }
        }
    }

    private async Task<bool> WaitForPortsAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        foreach (var port in new[] { BlobPort, QueuePort, TablePort })
        {
            while (true)
            {
                if (_process!.HasExited)
                {
                    return false;
                }

                try
                {
                    using var client = new TcpClient();
                    await client.ConnectAsync("127.0.0.1", port);
                    break;
                }
                catch (SocketException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(50);
                }
                catch (SocketException)
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <inheritdoc />
    public Task DisposeAsync()
    {
        if (_process is { } p)
        {
            try
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                    p.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }

            p.Dispose();
            _process = null;
        }

        return Task.CompletedTask;
    }
}
