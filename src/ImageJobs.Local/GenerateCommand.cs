using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using ImageJobs.DashScope;
using ImageJobs.Workflow.Durable;
using ImageJobs.Workflow.Intake;
using ImageJobs.Workflow.Jobs;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace ImageJobs.Local;

/// <summary>What <c>generate</c> was asked for.</summary>
public sealed record GenerateRequest
{
    /// <summary>The model.</summary>
    public required string Model { get; init; }

    /// <summary>The prompt.</summary>
    public string? Prompt { get; init; }

    /// <summary>The negative prompt.</summary>
    public string? NegativePrompt { get; init; }

    /// <summary>The wanx2.1-imageedit function.</summary>
    public string? Function { get; init; }

    /// <summary>Image inputs: local paths (uploaded to blob storage first) or http(s) URLs.</summary>
    public IReadOnlyList<string> Images { get; init; } = [];

    /// <summary>Parameters as <c>key=value</c>; values that parse as JSON are sent as JSON, others as strings.</summary>
    public IReadOnlyList<string> Parameters { get; init; } = [];

    /// <summary>Where the images are saved (relative paths are relative to the app root, the folder with host.json).</summary>
    public string Out { get; init; } = "out";

    /// <summary>The job timeout.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Configuration applied over host.json, local.settings.json and the environment (e.g. <c>DashScopeEmulator:TimeScale</c>).</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();
}

/// <summary>
/// <c>generate</c>: one job through the whole pipeline with everything embedded (the Durable Task runtime, storage, and the emulator
/// unless <c>DASHSCOPE_API_KEY</c> is set), live progress, images saved to <c>--out</c> as well as to blob storage.
/// Exit code 0 on success, 1 when the job fails (with the provider's code and message), 2 for bad input.
/// </summary>
public static class GenerateCommand
{
    /// <summary>The container local image files are uploaded to.</summary>
    public const string InputsContainer = "inputs";

    /// <summary>Runs the command.</summary>
    /// <param name="request">What to generate.</param>
    /// <param name="root">The folder with host.json.</param>
    /// <param name="output">Where progress goes.</param>
    /// <param name="cancellationToken">Stops the command.</param>
    public static async Task<int> RunAsync(GenerateRequest request, string root, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(output);
        var (app, environment) = await LocalApp.BuildAsync(
            new LocalAppOptions { Root = root, Urls = null, Triggers = false, Quiet = true, InMemoryStorage = true, Overrides = request.Settings },
            cancellationToken);
        await using var _ = environment;
        await using var __ = app;
        foreach (var note in environment.Notes)
        {
            await output.WriteLineAsync(note);
        }

        await app.StartAsync(cancellationToken);
        var jobId = "gen-" + Guid.NewGuid().ToString("N")[..20];
        JsonObject body;
        try
        {
            body = await BuildJobAsync(request, jobId, app.Services.GetRequiredService<BlobServiceClient>(), cancellationToken);
        }
        catch (ArgumentException ex)
        {
            await output.WriteLineAsync($"error: {ex.Message}");
            return 2;
        }

        var intake = app.Services.GetRequiredService<JobIntake>();
        var (job, errors) = await intake.ValidateAsync(body, jobId, cancellationToken);
        if (job is null)
        {
            foreach (var error in errors)
            {
                await output.WriteLineAsync($"error: {error.Field}: {error.Message}");
            }

            return 2;
        }

        var client = app.Services.GetRequiredService<DurableTaskClient>();
        await JobIntake.StartAsync(client, job, cancellationToken);
        await output.WriteLineAsync($"Job {jobId}: {job.Model}, started.");
        var started = DateTime.UtcNow;
        string? last = null;
        OrchestrationMetadata instance;
        while (true)
        {
            instance = await client.GetInstanceAsync(jobId, getInputsAndOutputs: true, cancellation: cancellationToken)
                ?? throw new InvalidOperationException($"Job {jobId} vanished.");
            if (instance.IsCompleted)
            {
                break;
            }

            var line = Describe(DurableJson.Deserialize<JobProgress>(instance.SerializedCustomStatus));
            if (line is not null && line != last)
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  [{(DateTime.UtcNow - started).TotalSeconds,5:F1}s] {line}"));
                last = line;
            }

            await Task.Delay(100, cancellationToken);
        }

        var result = DurableJson.Deserialize<JobResult>(instance.SerializedOutput);
        if (instance.RuntimeStatus != OrchestrationRuntimeStatus.Completed || result is null)
        {
            await output.WriteLineAsync($"Job {jobId} ended {instance.RuntimeStatus}: {instance.FailureDetails?.ErrorMessage}");
            return 1;
        }

        var saved = await SaveImagesAsync(app.Services.GetRequiredService<BlobServiceClient>(), result, Path.Combine(Path.GetFullPath(request.Out, root), jobId), cancellationToken);
        foreach (var (image, path) in saved)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"  image {image.Index}: {path} ({image.Width}x{image.Height}, {image.Bytes} bytes, sha256 {image.Sha256![..12]}…; blob {image.Container}/{image.BlobName})"));
        }

        foreach (var image in result.Images.Where(i => i.Error is not null))
        {
            await output.WriteLineAsync($"  image {image.Index}: failed: {image.Error!.Code}: {image.Error.Message}");
        }

        if (result.Status != JobStatus.Succeeded)
        {
            await output.WriteLineAsync($"Job {jobId} {result.Status}: {result.Error?.Code}: {result.Error?.Message}");
            return 1;
        }

        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"Job {jobId} succeeded in {(DateTime.UtcNow - started).TotalSeconds:F1}s: {saved.Count} image(s), {result.Polls} status poll(s), task {result.TaskId}."));
        return 0;
    }

    /// <summary>Builds the job JSON from the command's options, uploading local image files to <see cref="InputsContainer"/>.</summary>
    public static async Task<JsonObject> BuildJobAsync(GenerateRequest request, string jobId, BlobServiceClient blobs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(blobs);
        var images = new List<string>();
        for (var i = 0; i < request.Images.Count; i++)
        {
            var image = request.Images[i];
            if (Uri.TryCreate(image, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            {
                images.Add(image);
                continue;
            }

            if (!File.Exists(image))
            {
                throw new ArgumentException($"--image '{image}' is neither an http(s) URL nor an existing file.");
            }

            var container = blobs.GetBlobContainerClient(InputsContainer);
            await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            var name = string.Create(CultureInfo.InvariantCulture, $"{jobId}/{i}{Path.GetExtension(image)}");
            await container.GetBlobClient(name).UploadAsync(image, overwrite: true, cancellationToken);
            images.Add($"{ImageJobParser.BlobScheme}{InputsContainer}/{name}");
        }

        var input = new JsonObject();
        if (request.Prompt is not null)
        {
            input["prompt"] = request.Prompt;
        }

        if (request.NegativePrompt is not null)
        {
            input["negative_prompt"] = request.NegativePrompt;
        }

        if (DashScopeModelCatalog.TryGet(request.Model, out var profile) && profile.Family == DashScopeModelFamily.WanxImageEdit)
        {
            input["function"] = request.Function;
        }

        // The images fill the model's image fields in order (the catalog's ImageFields); a text-only model takes none.
        if (DashScopeModelCatalog.ImageFieldsOf(request.Model).Count == 0 && images.Count > 0)
        {
            throw new ArgumentException($"--image is not used by {request.Model}.");
        }

        DashScopeModelCatalog.WriteImages(request.Model, input, images);

        var parameters = new JsonObject();
        foreach (var pair in request.Parameters)
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new ArgumentException($"--param '{pair}' must be key=value.");
            }

            var (key, value) = (pair[..eq], pair[(eq + 1)..]);
            if (!LooksLikeJson(value))
            {
                parameters[key] = JsonValue.Create(value);
                continue;
            }

            // JSON holding text no job can carry (a lone surrogate escape) is refused, not sent on as a string.
            parameters[key] = ImageJobParser.TryParseJson(value, $"--param {key}", out var node) is { } invalid
                ? throw new ArgumentException($"--param {key}: {invalid.Message} (parameters.{key})")
                : node;
        }

        var body = new JsonObject { ["jobId"] = jobId, ["model"] = request.Model, ["input"] = input, ["parameters"] = parameters };
        if (request.Timeout is { } timeout)
        {
            body["timeout"] = timeout.TotalSeconds;
        }

        return body;
    }

    private static bool LooksLikeJson(string value)
    {
        try
        {
            using var _ = JsonDocument.Parse(value);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string? Describe(JobProgress? progress)
    {
        if (progress is null)
        {
            return null;
        }

        var parts = new List<string> { progress.Phase };
        if (progress.TaskId is not null)
        {
            parts.Add($"task {progress.TaskId}");
        }

        if (progress.ProviderStatus is not null)
        {
            parts.Add(progress.ProviderStatus);
        }

        if (progress.Phase == "waiting")
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"polls {progress.Polls}"));
            if (progress.Eta is { } eta)
            {
                var left = eta - DateTime.UtcNow;
                parts.Add(left > TimeSpan.Zero ? string.Create(CultureInfo.InvariantCulture, $"ETA {left.TotalSeconds:F0}s") : "ETA now");
            }
        }

        return string.Join(" · ", parts);
    }

    private static async Task<List<(JobImage Image, string Path)>> SaveImagesAsync(BlobServiceClient blobs, JobResult result, string folder, CancellationToken cancellationToken)
    {
        var saved = new List<(JobImage, string)>();
        foreach (var image in result.Images.Where(i => i.BlobName is not null))
        {
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"{image.Index}{Path.GetExtension(image.BlobName)}"));
            await blobs.GetBlobContainerClient(image.Container).GetBlobClient(image.BlobName).DownloadToAsync(path, cancellationToken);
            saved.Add((image, path));
        }

        return saved;
    }
}
