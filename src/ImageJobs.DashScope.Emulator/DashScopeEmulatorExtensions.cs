using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ImageJobs.DashScope.Emulator;

/// <summary>Mounts the emulator in any ASP.NET Core app: <c>services.AddDashScopeEmulator(…)</c> then <c>app.MapDashScopeEmulator()</c>.</summary>
public static class DashScopeEmulatorExtensions
{
    /// <summary>Command-line switches and the configuration keys they set.</summary>
    public static IReadOnlyDictionary<string, string> SwitchMappings { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["--api-key"] = Key(nameof(DashScopeEmulatorOptions.ApiKey)),
        ["--time-scale"] = Key(nameof(DashScopeEmulatorOptions.TimeScale)),
        ["--seed"] = Key(nameof(DashScopeEmulatorOptions.Seed)),
        ["--enable-limits"] = Key(nameof(DashScopeEmulatorOptions.EnableLimits)),
        ["--limit-scale"] = Key(nameof(DashScopeEmulatorOptions.LimitScale)),
        ["--scale-rate-windows"] = Key(nameof(DashScopeEmulatorOptions.ScaleRateWindows)),
        ["--reject-over-concurrency"] = Key(nameof(DashScopeEmulatorOptions.RejectOverConcurrency)),
        ["--task-ttl"] = Key(nameof(DashScopeEmulatorOptions.TaskTtl)),
        ["--result-url-ttl"] = Key(nameof(DashScopeEmulatorOptions.ResultUrlTtl)),
        ["--submit-error-rate"] = Key(nameof(DashScopeEmulatorOptions.SubmitErrorRate)),
        ["--submit-throttle-rate"] = Key(nameof(DashScopeEmulatorOptions.SubmitThrottleRate)),
        ["--task-failure-rate"] = Key(nameof(DashScopeEmulatorOptions.TaskFailureRate)),
        ["--image-failure-rate"] = Key(nameof(DashScopeEmulatorOptions.ImageFailureRate)),
        ["--data-inspection-trigger"] = Key(nameof(DashScopeEmulatorOptions.DataInspectionTrigger)),
        ["--response-delay"] = Key(nameof(DashScopeEmulatorOptions.ResponseDelay)),
        ["--upload-ttl"] = Key(nameof(DashScopeEmulatorOptions.UploadTtl)),
        ["--upload-policy-ttl"] = Key(nameof(DashScopeEmulatorOptions.UploadPolicyTtl)),
        ["--upload-max-file-size-mb"] = Key(nameof(DashScopeEmulatorOptions.UploadMaxFileSizeMb)),
        ["--data-folder"] = Key(nameof(DashScopeEmulatorOptions.DataFolder)),
    };

    /// <summary>The true/false switches: given bare (<c>--reject-over-concurrency</c>), they mean true.</summary>
    public static IReadOnlyCollection<string> BooleanSwitches { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "--enable-limits", "--scale-rate-windows", "--reject-over-concurrency",
    };

    /// <summary>Adds the command line with the emulator's switches (<c>--time-scale 0.05</c> → <c>DashScopeEmulator:TimeScale</c>).</summary>
    public static IConfigurationBuilder AddDashScopeEmulatorCommandLine(this IConfigurationBuilder configuration, string[] args)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(args);
        return configuration.AddCommandLine(NormalizeBooleanSwitches(args), SwitchMappings.ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>
    /// Gives every bare boolean switch (one not followed by <c>true</c>/<c>false</c>, at the end or before another
    /// switch) the value <c>true</c>; <c>--switch=value</c> and <c>--switch value</c> pass unchanged.
    /// </summary>
    public static string[] NormalizeBooleanSwitches(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var result = new List<string>(args.Length + 3);
        for (var i = 0; i < args.Length; i++)
        {
            result.Add(args[i]);
            if (BooleanSwitches.Contains(args[i]) && (i + 1 == args.Length || !bool.TryParse(args[i + 1], out _)))
            {
                result.Add("true");
            }
        }

        return [.. result];
    }

    /// <summary>Reads <see cref="DashScopeEmulatorOptions"/> from the <c>DashScopeEmulator</c> section and validates them.</summary>
    public static DashScopeEmulatorOptions GetDashScopeEmulatorOptions(this IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new DashScopeEmulatorOptions();
        configuration.GetSection(DashScopeEmulatorOptions.SectionName).Bind(options);
        var errors = options.Validate();
        return errors.Count == 0 ? options : throw new InvalidOperationException(string.Join(Environment.NewLine, errors));
    }

    /// <summary>Registers the emulator's state. Time comes from <paramref name="timeProvider"/>, else a registered
    /// <see cref="TimeProvider"/>, else the system clock. With <see cref="DashScopeEmulatorOptions.DataFolder"/> set, the
    /// state is read from that folder when <see cref="MapDashScopeEmulator"/> maps the routes, and written back there.</summary>
    public static IServiceCollection AddDashScopeEmulator(this IServiceCollection services, DashScopeEmulatorOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(sp => new EmulatorContext(options, timeProvider ?? sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetService<ILoggerFactory>()?.CreateLogger(Log.Category)));
        services.AddSingleton(sp => sp.GetRequiredService<EmulatorContext>().Stats);
        return services;
    }

    /// <summary>Maps the DashScope routes (<c>/api/v1/…</c>), <c>GET /emulator/stats</c> and the signed result images,
    /// and creates the emulator's state (reading its data folder, if it has one) before the first request.</summary>
    public static IEndpointConventionBuilder MapDashScopeEmulator(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.ServiceProvider.GetRequiredService<EmulatorContext>();
        return EmulatorEndpoints.Map(endpoints);
    }

    private static string Key(string property) => $"{DashScopeEmulatorOptions.SectionName}:{property}";
}
