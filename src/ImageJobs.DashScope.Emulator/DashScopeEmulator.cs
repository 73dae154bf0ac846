using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ImageJobs.DashScope.Emulator;

/// <summary>Starts an in-process emulator on a free loopback port: <c>await using var emu = await DashScopeEmulator.StartAsync(options);</c></summary>
public static class DashScopeEmulator
{
    /// <summary>Starts the emulator on <c>http://127.0.0.1:{free port}</c> on the system clock; dispose the host to stop it.</summary>
    public static Task<DashScopeEmulatorHost> StartAsync(DashScopeEmulatorOptions? options = null, CancellationToken cancellationToken = default) =>
        StartAsync(options ?? new DashScopeEmulatorOptions(), TimeProvider.System, cancellationToken);

    /// <summary>
    /// Starts the emulator on <c>http://127.0.0.1:{free port}</c> with time from <paramref name="timeProvider"/> (tests pass
    /// a clock they move); dispose the host to stop it. With a <see cref="DashScopeEmulatorOptions.DataFolder"/>, it
    /// listens on the port recorded there by the previous start when that port is free (so the result URLs it handed
    /// out still resolve), else on a free one, and records the port it got. Its warnings (files of the data folder it
    /// skipped) go to the console.
    /// </summary>
    public static async Task<DashScopeEmulatorHost> StartAsync(DashScopeEmulatorOptions options, TimeProvider timeProvider,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var recorded = string.IsNullOrWhiteSpace(options.DataFolder) ? null : EmulatorDataFolder.RecordedPort(options.DataFolder);
        if (recorded is { } port)
        {
            try
            {
                return await StartAsync(options, timeProvider, port, cancellationToken);
            }
            catch (IOException)
            {
                // Kestrel could not bind the recorded port (another program has it): a free one instead.
            }
        }

        return await StartAsync(options, timeProvider, 0, cancellationToken);
    }

    private static async Task<DashScopeEmulatorHost> StartAsync(DashScopeEmulatorOptions options, TimeProvider timeProvider, int port,
        CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(DashScopeEmulator).Assembly.GetName().Name });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.AddFilter((category, level) => category == Log.Category && level >= LogLevel.Warning);
        builder.WebHost.UseUrls(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"));
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 64 * 1024 * 1024); // three 10 MB data URIs fit
        builder.Services.AddDashScopeEmulator(options, timeProvider);
        var app = builder.Build();
        try
        {
            app.MapDashScopeEmulator(); // creates the state: reads the data folder, and throws for invalid options
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        var context = app.Services.GetRequiredService<EmulatorContext>();
        var root = new Uri(address.TrimEnd('/') + "/");
        context.RecordPort(root.Port);
        return new DashScopeEmulatorHost(app, root, context);
    }
}

/// <summary>A running in-process emulator.</summary>
public sealed class DashScopeEmulatorHost : IAsyncDisposable, IDisposable
{
    private readonly WebApplication _app;
    private readonly EmulatorContext _context;

    internal DashScopeEmulatorHost(WebApplication app, Uri rootAddress, EmulatorContext context)
    {
        _app = app;
        _context = context;
        RootAddress = rootAddress;
        BaseAddress = new Uri(rootAddress, "api/v1/");
    }

    /// <summary>The DashScope base URL, <c>http://127.0.0.1:{port}/api/v1/</c> (with a trailing slash).</summary>
    public Uri BaseAddress { get; }

    /// <summary>The server root, <c>http://127.0.0.1:{port}/</c> (<c>emulator/stats</c> lives here).</summary>
    public Uri RootAddress { get; }

    /// <summary>The emulator's counters (the same as <c>GET /emulator/stats</c>).</summary>
    public EmulatorStats Stats => _context.Stats;

    /// <summary>What was read back from <see cref="DashScopeEmulatorOptions.DataFolder"/> at start; null without a data folder.</summary>
    public EmulatorDataSummary? Restored => _context.Restored;

    /// <summary>The emulator's state, for its own tests.</summary>
    internal EmulatorContext Context => _context;

    /// <summary>The settings the emulator runs with (a copy; changing it has no effect).</summary>
    public DashScopeEmulatorOptions Options => _context.Options.Clone();

    /// <summary>Stops the server.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Stops the server (blocking).</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
