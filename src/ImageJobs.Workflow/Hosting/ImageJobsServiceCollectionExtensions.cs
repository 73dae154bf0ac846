using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using ImageJobs.DashScope;
using ImageJobs.Workflow.Activities;
using ImageJobs.Workflow.Api;
using ImageJobs.Workflow.Intake;
using ImageJobs.Workflow.Outbound;
using ImageJobs.Workflow.Provider;
using ImageJobs.Workflow.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ImageJobs.Workflow.Hosting;

/// <summary>The one registration both hosts use.</summary>
public static class ImageJobsServiceCollectionExtensions
{
    /// <summary>
    /// Registers the workflow: options (<c>ImageJobs</c>, <c>ImageJobs:Outbound</c>, <c>DashScope</c>, with
    /// <c>DASHSCOPE_API_KEY</c> and <c>IMAGEJOBS_WEBHOOK_SECRET</c>), storage clients from <c>AzureWebJobsStorage</c>,
    /// the DashScope client, the outbound guard and its <see cref="HttpClient"/>, every activity of
    /// <see cref="WorkflowCatalog"/>, the intake and <see cref="JobsApi"/>. The host adds the durable runtime (the worker
    /// and the <c>DurableTaskClient</c> each call passes in).
    /// </summary>
    public static IServiceCollection AddImageJobs(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(TimeProvider.System);

        services.AddOptions<ImageJobsOptions>()
            .Bind(configuration.GetSection(ImageJobsOptions.SectionName))
            .PostConfigure(o => o.WebhookSecret ??= configuration["IMAGEJOBS_WEBHOOK_SECRET"] is { Length: > 0 } s ? s : null)
            .Validate(o => IsUsableWebhookSecret(o.WebhookSecret),
                "IMAGEJOBS_WEBHOOK_SECRET starts with 'whsec_' but the rest is not base64: a Standard Webhooks secret is whsec_{base64}.")
            .Validate(o => o.MaxResultImageBytes > 0, "ImageJobs:MaxResultImageBytes must be positive.")
            .Validate(o => o.ExpectedDurationScale > 0, "ImageJobs:ExpectedDurationScale must be positive.")
            .Validate(o => o.RateWindowScale > 0 && !double.IsInfinity(o.RateWindowScale), "ImageJobs:RateWindowScale must be a positive number.")
            .Validate(o => o.InputSasLifetime > TimeSpan.Zero, "ImageJobs:InputSasLifetime must be positive.")
            .Validate(o => o.Retention.JobHistory >= TimeSpan.Zero, "ImageJobs:Retention:JobHistory must not be negative (0 turns purging off).")
            .Validate(o => o.OutputContainers.All(c => o.OutputContainerRefusal(c) is null),
                "ImageJobs:OutputContainers lists a container results may never go to: the state or uploads container, a task hub's or the Functions host's.")
            .ValidateOnStart();
        services.AddOptions<OutboundOptions>()
            .Bind(configuration.GetSection(OutboundOptions.SectionName))
            .Validate(o => o.MaxRedirects is >= 0 and <= 10, "ImageJobs:Outbound:MaxRedirects must be 0–10.")
            .ValidateOnStart();
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<ImageJobsOptions>>().Value);
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<OutboundOptions>>().Value);

        services.TryAddSingleton(_ => StorageClients.CreateBlobServiceClient(configuration));
        services.TryAddSingleton(_ => StorageClients.CreateQueueServiceClient(configuration));
        services.AddDashScopeClient(configuration.GetSection("DashScope"));

        services.TryAddSingleton<OutboundUrlGuard>();
        services.TryAddSingleton<Jobs.JobHistoryRetention>();
        services.AddHttpClient(SendWebhookActivity.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<OutboundUrlGuard>().CreateHandler())
            .ConfigureHttpClient(http => http.Timeout = SendWebhookActivity.RequestTimeout);
        services.TryAddSingleton(sp => new ResultImageStore(
            sp.GetRequiredService<BlobServiceClient>(),
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(SendWebhookActivity.HttpClientName)));

        services.TryAddSingleton<JobStateStore>();
        services.TryAddSingleton<DurationLearning>();
        services.TryAddSingleton<ActivePollers>();
        services.TryAddSingleton<ProviderPacing>();
        services.TryAddSingleton<InputResolver>();
        services.TryAddTransient(sp => new SendWebhookActivity(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(SendWebhookActivity.HttpClientName),
            sp.GetRequiredService<JobStateStore>(), sp.GetRequiredService<ImageJobsOptions>(), sp.GetRequiredService<TimeProvider>()));
        foreach (var function in WorkflowCatalog.Activities.Concat(WorkflowCatalog.Orchestrations))
        {
            services.TryAddTransient(function.Type);
        }

        services.AddOptions<UploadOptions>().Bind(configuration.GetSection(UploadOptions.SectionName));
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<UploadOptions>>().Value);
        services.TryAddSingleton<JobIntake>();
        services.TryAddSingleton<PoisonRecords>();
        services.TryAddSingleton<JobsApi>();
        return services;
    }

    // Webhooks are signed with the secret's base64 part when it is in the whsec_ form; any other string is used as it is.
    private static bool IsUsableWebhookSecret(string? secret)
    {
        if (secret is null || !secret.StartsWith("whsec_", StringComparison.Ordinal))
        {
            return true;
        }

        var encoded = secret["whsec_".Length..];
        return Convert.TryFromBase64String(encoded, new byte[encoded.Length], out var written) && written > 0;
    }
}
