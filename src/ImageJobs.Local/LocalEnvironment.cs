using System.Globalization;
using System.Text.Json;
using ImageJobs.DashScope.Emulator;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Storage;
using Microsoft.Extensions.Configuration;

namespace ImageJobs.Local;

/// <summary>
/// What the local host needs before it can start, found or made: settings as <c>func start</c> reads them
/// (<c>host.json</c>, <c>local.settings.json</c> <c>Values</c>, environment variables winning), storage (Azurite is
/// started when <c>AzureWebJobsStorage</c> is unreachable development storage), and DashScope (the emulator runs
/// in-process when no <c>DASHSCOPE_API_KEY</c> is set).
/// </summary>
public sealed class LocalEnvironment : IAsyncDisposable
{
    private AzuriteProcess? _azurite;
    private DashScopeEmulatorHost? _emulator;
    private Durable.LocalTaskHub? _taskHub;

    private LocalEnvironment(string root, Dictionary<string, string?> settings)
    {
        Root = root;
        Settings = settings;
    }

    /// <summary>The folder holding <c>host.json</c>.</summary>
    public string Root { get; }

    /// <summary>The path of <c>host.json</c>.</summary>
    public string HostJsonPath => Path.Combine(Root, "host.json");

    /// <summary>Settings that override configuration (storage and DashScope endpoints chosen here).</summary>
    public Dictionary<string, string?> Settings { get; }

    /// <summary>The embedded emulator, when one was started.</summary>
    public DashScopeEmulatorHost? Emulator => _emulator;

    /// <summary>The Azurite process, when one was started.</summary>
    public AzuriteProcess? Azurite => _azurite;

    /// <summary>Lines for the console: what was found, what was started.</summary>
    public IList<string> Notes { get; } = [];

    /// <summary>Finds the app root (the folder with host.json: the current folder or one above it).</summary>
    public static string FindRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "host.json")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No host.json in {start} or a folder above it; run from the ImageJobs checkout or pass --root.");
    }

    /// <summary>Adds <c>local.settings.json</c>'s <c>Values</c> (when present) beneath the environment variables.</summary>
    public static void AddLocalSettings(IConfigurationBuilder configuration, string root)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var path = Path.Combine(root, "local.settings.json");
        if (!File.Exists(path))
        {
            return;
        }

        using var document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (document.RootElement.TryGetProperty("Values", out var node) && node.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in node.EnumerateObject())
            {
                // Functions maps "A__B" app settings to "A:B" configuration keys.
                values[property.Name.Replace("__", ":", StringComparison.Ordinal)] = property.Value.ValueKind == JsonValueKind.String
                    ? property.Value.GetString()
                    : property.Value.GetRawText();
            }
        }

        // Sources added later win: put local.settings.json before the environment variables.
        var sources = configuration.Sources.ToList();
        configuration.Sources.Clear();
        configuration.AddInMemoryCollection(values);
        foreach (var source in sources)
        {
            configuration.Sources.Add(source);
        }
    }

    /// <summary>The folder under the app root where an Azurite started by <c>serve</c> keeps its data.</summary>
    public const string AzuriteFolderName = ".azurite";

    /// <summary>How long a configured storage account that does not answer is waited for (it may still be starting) before it is refused.</summary>
    public static readonly TimeSpan StorageStartWait = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Makes sure storage and DashScope are there, starting Azurite and the emulator when needed. Azurite is started
    /// only for development storage (<c>AzureWebJobsStorage</c> unset or <c>UseDevelopmentStorage=true</c>) that does
    /// not answer; it persists to <see cref="AzuriteFolderName"/> under <paramref name="root"/> unless
    /// <paramref name="inMemoryStorage"/>. Any other connection that does not answer is waited for up to
    /// <see cref="StorageStartWait"/>, saying so on the console, and then is an error naming the setting.
    /// </summary>
    /// <param name="root">The app root.</param>
    /// <param name="configuration">The app's configuration.</param>
    /// <param name="inMemoryStorage">Whether a started Azurite keeps its data in memory only (one-shot runs).</param>
    /// <param name="cancellationToken">Cancels the preparation.</param>
    public static Task<LocalEnvironment> PrepareAsync(string root, IConfiguration configuration, bool inMemoryStorage, CancellationToken cancellationToken) =>
        PrepareAsync(root, configuration, inMemoryStorage, StorageStartWait, Console.Out, cancellationToken);

    /// <summary><see cref="PrepareAsync(string, IConfiguration, bool, CancellationToken)"/> with its storage wait and where it says so (tests).</summary>
    internal static async Task<LocalEnvironment> PrepareAsync(string root, IConfiguration configuration, bool inMemoryStorage, TimeSpan storageWait,
        TextWriter console, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var environment = new LocalEnvironment(root, new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase));
        try
        {
            await environment.EnsureStorageAsync(configuration, inMemoryStorage, storageWait, console, cancellationToken);
            await environment.EnsureDashScopeAsync(configuration, inMemoryStorage, cancellationToken);
            return environment;
        }
        catch
        {
            await environment.DisposeAsync();
            throw;
        }
    }

    private async Task EnsureStorageAsync(IConfiguration configuration, bool inMemoryStorage, TimeSpan storageWait, TextWriter console, CancellationToken cancellationToken)
    {
        var configured = configuration[StorageClients.ConnectionName];
        var connection = StorageClients.ConnectionString(configuration);
        if (connection is null && configuration.GetSection(StorageClients.ConnectionName).GetChildren().Any())
        {
            Notes.Add("Storage: identity-based AzureWebJobsStorage settings.");
            return;
        }

        connection ??= StorageClients.DevelopmentConnectionString;
        var blobEndpoint = new Azure.Storage.Blobs.BlobServiceClient(connection).Uri;
        if (await AzuriteProcess.IsReachableAsync(blobEndpoint, TimeSpan.FromSeconds(1)))
        {
            Notes.Add($"Storage: {blobEndpoint.GetLeftPart(UriPartial.Authority)}.");
            Settings[StorageClients.ConnectionName] = connection;
            return;
        }

        // Only development storage may be stood in for: a connection string that names endpoints is the user's store,
        // and silently using a fresh one instead would hide every job they have. It may still be starting (a container
        // or an emulator started with serve), so it is waited for before it is refused.
        if (configured is not null && connection != StorageClients.DevelopmentConnectionString)
        {
            var authority = blobEndpoint.GetLeftPart(UriPartial.Authority);
            await console.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"Storage at {authority} ({StorageClients.ConnectionName}) does not answer yet; waiting up to {storageWait.TotalSeconds:0.#} s for it to start."));
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (waited.Elapsed < storageWait)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
                var left = storageWait - waited.Elapsed;
                if (left > TimeSpan.Zero && await AzuriteProcess.IsReachableAsync(blobEndpoint, left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1)))
                {
                    Notes.Add(string.Create(CultureInfo.InvariantCulture, $"Storage: {authority}, answering after {waited.Elapsed.TotalSeconds:0.0} s."));
                    Settings[StorageClients.ConnectionName] = connection;
                    return;
                }
            }

            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Storage at {authority} does not answer ({StorageClients.ConnectionName}), waited {storageWait.TotalSeconds:0.#} s for it. ") +
                $"Start it, or set {StorageClients.ConnectionName}=UseDevelopmentStorage=true to have Azurite started for you.");
        }

        var executable = AzuriteProcess.Find(Root) ?? AzuriteProcess.Find(AppContext.BaseDirectory)
            ?? throw new InvalidOperationException("No storage is reachable and Azurite is not installed: run 'npm ci' in the repository root.");
        _azurite = await AzuriteProcess.StartAsync(executable, inMemoryStorage ? null : Path.Combine(Root, AzuriteFolderName), cancellationToken);
        Settings[StorageClients.ConnectionName] = _azurite.ConnectionString;
        var how = (_azurite.Location, _azurite.Owned) switch
        {
            (null, _) => "started Azurite (in memory)",
            (var folder, true) => $"started Azurite (data in {folder})",
            (var folder, false) => $"reusing the Azurite (pid {_azurite.ProcessId}) already serving {folder}",
        };
        Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"Storage: none reachable, {how} on 127.0.0.1:{_azurite.BlobPort}/{_azurite.QueuePort}/{_azurite.TablePort}."));
        if (_azurite.RecordedPorts is { } recorded && recorded != (_azurite.BlobPort, _azurite.QueuePort, _azurite.TablePort))
        {
            Notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"Storage: the ports Azurite had on this folder before ({recorded.Blob}/{recorded.Queue}/{recorded.Table}) are taken, so it took new ones; jobs whose large inputs the task hub stored as links to the old ports cannot be read until it has them back (free them and restart)."));
        }
    }

    private async Task EnsureDashScopeAsync(IConfiguration configuration, bool inMemoryStorage, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(configuration["DASHSCOPE_API_KEY"]) || !string.IsNullOrWhiteSpace(configuration["DashScope:ApiKey"]))
        {
            Notes.Add("DashScope: the real service (DASHSCOPE_API_KEY is set).");
            UseTemporaryUploadsForPrivateStorage(configuration);
            return;
        }

        var options = configuration.GetDashScopeEmulatorOptions();
        options.ApiKey ??= "sk-emulator";
        if (!inMemoryStorage && string.IsNullOrWhiteSpace(options.DataFolder))
        {
            // Jobs persisted in Azurite outlive this run, so must the tasks they wait on (and their result URLs' port).
            options.DataFolder = Path.Combine(Root, ".emulator");
        }

        _emulator = await DashScopeEmulator.StartAsync(options, cancellationToken);
        var authority = _emulator.RootAddress.Authority;
        Settings["DashScope:Endpoint"] = _emulator.BaseAddress.AbsoluteUri;
        Settings["DashScope:ApiKey"] = options.ApiKey;
        // Appended after the hosts the user configured, never over one of them.
        Settings[$"{ResultHostsSection}:{NextIndex(configuration.GetSection(ResultHostsSection))}"] = authority;
        Settings["ImageJobs:Outbound:AllowedHosts:100"] = authority;
        Settings["ImageJobs:ExpectedDurationScale"] = options.TimeScale.ToString(CultureInfo.InvariantCulture);
        if (options.ScaleRateWindows)
        {
            Settings["ImageJobs:RateWindowScale"] = options.TimeScale.ToString(CultureInfo.InvariantCulture);
        }

        var kept = _emulator.Restored is { } data ? $"; tasks kept in {data.Folder}, {data.Tasks} read back" : "";
        Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"DashScope: no DASHSCOPE_API_KEY, using the embedded emulator at {_emulator.BaseAddress} (time scale {options.TimeScale}{kept})."));
        Notes.Add($"Outbound: {authority} (the embedded emulator) is allow-listed for webhooks, image inputs and result downloads "
            + "(ImageJobs:Outbound:AllowedHosts, ImageJobs:ResultHosts).");
    }

    /// <summary>The configuration list of hosts result images may be downloaded from.</summary>
    private const string ResultHostsSection = "ImageJobs:ResultHosts";

    /// <summary>The first index after every numbered entry of the configuration list <paramref name="list"/>.</summary>
    private static int NextIndex(IConfigurationSection list) =>
        list.GetChildren().Select(c => int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i + 1 : 0)
            .DefaultIfEmpty(0).Max();

    /// <summary>
    /// The real service cannot read this machine's storage (Azurite, loopback, private), and data URIs do not serve every
    /// input (wanx-v1 ref_img, images over 10 MB): unless <c>ImageJobs:InputMode</c> is set, <c>blob:</c> inputs then go
    /// through DashScope's temporary storage, which is documented for the Beijing region only.
    /// </summary>
    private void UseTemporaryUploadsForPrivateStorage(IConfiguration configuration)
    {
        var connection = Settings.TryGetValue(StorageClients.ConnectionName, out var set) ? set : StorageClients.ConnectionString(configuration);
        if (!string.IsNullOrEmpty(configuration["ImageJobs:InputMode"]) || connection is null
            || InputResolver.IsPubliclyReachable(new Azure.Storage.Blobs.BlobServiceClient(connection).Uri))
        {
            return;
        }

        var endpoint = new DashScope.DashScopeClientOptions
        {
            Region = configuration["DashScope:Region"],
            Endpoint = Uri.TryCreate(configuration["DashScope:Endpoint"], UriKind.Absolute, out var e) ? e : null,
        };
        if (endpoint.Endpoint is null && endpoint.GetEndpoint() == DashScope.DashScopeRegions.Beijing)
        {
            Settings["ImageJobs:InputMode"] = nameof(InputResolutionMode.TemporaryUpload);
            Notes.Add("Inputs: storage is not reachable from DashScope, so blob inputs go through DashScope's temporary storage (oss://, 48 h).");
        }
    }

    /// <summary>The task hub the app runs on, once <see cref="LocalApp.BuildAsync"/> started it.</summary>
    public Durable.LocalTaskHub? TaskHub
    {
        get => _taskHub;
        internal set => _taskHub = value;
    }

    /// <summary>Closes the task hub, then stops the emulator and the Azurite this environment started (dispose the app first).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_taskHub is not null)
        {
            await _taskHub.DisposeAsync();
        }

        if (_emulator is not null)
        {
            await _emulator.DisposeAsync();
        }

        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }
}
