using System.Globalization;

namespace ImageJobs.Local;

/// <summary>
/// The queue settings of <c>host.json</c> (<c>extensions.queues</c>), overridable as Functions allows with
/// <c>AzureFunctionsJobHost__extensions__queues__*</c> settings.
/// </summary>
public sealed record QueueTriggerSettings(TimeSpan MaxPollingInterval, TimeSpan VisibilityTimeout, int BatchSize, int MaxDequeueCount)
{
    /// <summary>
    /// How long a received message stays invisible when host.json's <c>visibilityTimeout</c> is zero (Functions' default)
    /// or absent: a message is never received with no visibility at all, which would hand it to the next poll at once.
    /// </summary>
    public static readonly TimeSpan DefaultReceiveVisibility = TimeSpan.FromMinutes(5);

    /// <summary>How long a received message stays invisible while it is handled: host.json's <c>visibilityTimeout</c> when it gives one.</summary>
    public TimeSpan ReceiveVisibility => VisibilityTimeout > TimeSpan.Zero ? VisibilityTimeout : DefaultReceiveVisibility;

    /// <summary>Reads the settings; Functions' defaults where absent.</summary>
    public static QueueTriggerSettings Read(HostJson hostJson, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(hostJson);
        ArgumentNullException.ThrowIfNull(configuration);
        string? Value(string key) => hostJson.Get("extensions:queues:" + key, configuration);
        return new QueueTriggerSettings(
            Span(Value("maxPollingInterval"), TimeSpan.FromMinutes(1)),
            Span(Value("visibilityTimeout"), TimeSpan.Zero),
            Int(Value("batchSize"), 16),
            Int(Value("maxDequeueCount"), 5));
    }

    private static TimeSpan Span(string? value, TimeSpan fallback) =>
        TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var v) ? v : fallback;

    private static int Int(string? value, int fallback) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : fallback;
}
