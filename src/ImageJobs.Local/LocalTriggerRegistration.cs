namespace ImageJobs.Local;

/// <summary>Registers the local queue and upload triggers.</summary>
public static class LocalTriggerRegistration
{
    /// <summary>Adds the <c>image-jobs</c> queue trigger, the <c>uploads</c> scanner and the hourly history purge.</summary>
    public static IServiceCollection AddLocalTriggers(this IServiceCollection services, IConfiguration configuration, HostJson hostJson)
    {
        services.AddSingleton(QueueTriggerSettings.Read(hostJson, configuration));
        services.AddHostedService<QueueTrigger>();
        services.AddHostedService<UploadScanner>();
        services.AddHostedService<JobHistoryPurger>();
        return services;
    }
}
