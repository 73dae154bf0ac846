using ImageJobs.DashScope;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="DashScopeClient"/> with <c>IHttpClientFactory</c>.</summary>
public static class DashScopeServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="DashScopeClient"/> (typed HTTP client, gzip decompression) with options bound from a
    /// configuration section (for example <c>configuration.GetSection("DashScope")</c>). When the section has no
    /// <c>ApiKey</c>, the root configuration key <c>DASHSCOPE_API_KEY</c> is used, then the environment variable.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The options section.</param>
    /// <returns>The HTTP client builder, for further configuration.</returns>
    public static IHttpClientBuilder AddDashScopeClient(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<DashScopeClientOptions>().Bind(configuration);
        return AddCore(services);
    }

    /// <summary>Registers <see cref="DashScopeClient"/> with options set in code.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The HTTP client builder, for further configuration.</returns>
    public static IHttpClientBuilder AddDashScopeClient(this IServiceCollection services, Action<DashScopeClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<DashScopeClientOptions>().Configure(configure);
        return AddCore(services);
    }

    private static IHttpClientBuilder AddCore(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<DashScopeClientOptions>()
            .PostConfigure<IServiceProvider>((options, provider) =>
            {
                if (string.IsNullOrWhiteSpace(options.ApiKey)
                    && provider.GetService<IConfiguration>()?[DashScopeClientOptions.ApiKeyEnvironmentVariable] is { Length: > 0 } key)
                {
                    options.ApiKey = key;
                }
            })
            .Validate(options => options.NetworkTimeout > TimeSpan.Zero || options.NetworkTimeout == Timeout.InfiniteTimeSpan,
                "DashScope:NetworkTimeout must be positive.")
            .Validate(options => options.Endpoint is null || options.Endpoint.IsAbsoluteUri,
                "DashScope:Endpoint must be an absolute http(s) URL.")
            .Validate(options => string.IsNullOrWhiteSpace(options.Region) || DashScopeRegions.GetEndpoint(options.Region) is not null,
                "DashScope:Region must be 'beijing' or 'singapore' (or set DashScope:Endpoint).")
            .Validate(options => options.GetApiKey() is not null,
                "No DashScope API key: set DashScope:ApiKey, the DASHSCOPE_API_KEY configuration key or the DASHSCOPE_API_KEY environment variable.")
            .ValidateOnStart();

        return services
            .AddHttpClient(nameof(DashScopeClient))
            .ConfigureHttpClient(http => http.Timeout = Timeout.InfiniteTimeSpan) // the client applies NetworkTimeout per request
            .ConfigurePrimaryHttpMessageHandler(DashScopeClient.CreateHandler)
            .AddTypedClient((http, provider) =>
                new DashScopeClient(
                    http,
                    provider.GetRequiredService<IOptions<DashScopeClientOptions>>().Value,
                    provider.GetService<ILogger<DashScopeClient>>()));
    }
}
