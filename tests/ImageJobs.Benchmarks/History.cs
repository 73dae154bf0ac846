using System.Text.Json.Nodes;
using Azure.Data.Tables;

namespace ImageJobs.Benchmarks;

/// <summary>
/// An instance's history as the Azure Storage provider wrote it (the <c>{hub}History</c> table): one row per event, with
/// the event's own timestamp, so a benchmark can say where the time between two points went (episodes, activity hops).
/// </summary>
internal static class History
{
    public sealed record Event(string Type, string? Name, DateTime Timestamp, int? TaskScheduledId, int EventId, DateTime? FireAt = null, string? Input = null);

    public static async Task<List<Event>> ReadAsync(Rig rig, string instanceId)
    {
        var table = new TableServiceClient(rig.StorageConnectionString).GetTableClient(rig.Settings.TaskHubName + "History");
        var events = new List<Event>();
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == instanceId))
        {
            if (row.GetString("EventType") is not { } type)
            {
                continue; // the sentinel row
            }

            var timestamp = row.TryGetValue("_Timestamp", out var t) && t is DateTimeOffset dto ? dto.UtcDateTime
                : row.TryGetValue("Timestamp", out var t2) && t2 is DateTimeOffset dto2 ? dto2.UtcDateTime : default;
            var fireAt = row.TryGetValue("FireAt", out var f) && f is DateTimeOffset fire ? fire.UtcDateTime : (DateTime?)null;
            events.Add(new Event(type, row.GetString("Name"), timestamp, row.GetInt32("TaskScheduledId"), row.GetInt32("EventId") ?? -1, fireAt, row.GetString("Input")));
        }

        return events; // row order: the order the events happened in, episode by episode
    }

    /// <summary>Where the time after <paramref name="from"/> went, from an instance's history.</summary>
    public sealed record Breakdown(int EventsBefore, int Episodes, List<double> ActivityMs, List<double> DeliveryMs, int Timers);

    /// <summary>
    /// Episodes started at or after <paramref name="from"/>; per activity scheduled after it, TaskScheduled → TaskCompleted
    /// (work-item queue, dispatch to the worker, the activity, its result) and TaskCompleted → the next episode's start
    /// (control queue, session lock, history load); events written before it; and timers created in the whole history.
    /// </summary>
    public static Breakdown Analyze(List<Event> events, DateTime from)
    {
        var starts = events.Where(e => e.Type == "OrchestratorStarted").Select(e => e.Timestamp).Order().ToList();
        var scheduled = events.Where(e => e.Type == "TaskScheduled" && e.Timestamp >= from).ToDictionary(e => e.EventId);
        var activity = new List<double>();
        var delivery = new List<double>();
        foreach (var done in events.Where(e => e.Type == "TaskCompleted" && e.TaskScheduledId is { } id && scheduled.ContainsKey(id)))
        {
            activity.Add((done.Timestamp - scheduled[done.TaskScheduledId!.Value].Timestamp).TotalMilliseconds);
            var next = starts.FirstOrDefault(s => s >= done.Timestamp);
            if (next != default)
            {
                delivery.Add((next - done.Timestamp).TotalMilliseconds);
            }
        }

        return new Breakdown(events.Count(e => e.Timestamp < from), starts.Count(s => s >= from), activity, delivery, events.Count(e => e.Type == "TimerCreated"));
    }

    /// <summary>The detecting poll, from a job's history: where its lag went.</summary>
    /// <param name="PlannedAt">The poll time the schedule chose: the query's <c>NotBefore</c> (else FireAt of the last timer
    /// before the poll).</param>
    /// <param name="PollEpisodeAt">The start of the episode that scheduled the poll (the timer seen fired; before
    /// <paramref name="PlannedAt"/> when it woke early, and the activity waited the rest).</param>
    /// <param name="Timers">Timers the job created in all (re-waits after early firing included).</param>
    /// <param name="EarlyFirings">Timers that fired (episode start) before their FireAt.</param>
    public sealed record Detection(DateTime PlannedAt, DateTime PollEpisodeAt, int Timers, int EarlyFirings);

    /// <summary>From a job's history (row order), where the lag of the poll that saw the end went.</summary>
    public static Detection? DetectingPoll(List<Event> events, DateTime detectedAt)
    {
        DateTime episode = default;
        DateTime? wokenBy = null;
        Detection? found = null;
        var early = 0;
        foreach (var e in events)
        {
            switch (e.Type)
            {
                case "OrchestratorStarted":
                    episode = e.Timestamp;
                    wokenBy = null;
                    break;
                case "TimerFired" when e.FireAt is { } fireAt:
                    wokenBy = fireAt;
                    early += episode < fireAt ? 1 : 0;
                    break;
                case "TaskScheduled" when e.Name == "GetTaskActivity" && episode <= detectedAt && (NotBefore(e.Input) ?? wokenBy) is { } planned:
                    found = new Detection(planned, episode, 0, 0);
                    break;
            }
        }

        return found is null ? null : found with { Timers = events.Count(e => e.Type == "TimerCreated"), EarlyFirings = early };
    }

    // The activity's input as the provider stored it: [ { "jobId": …, "notBefore": "…" } ].
    private static DateTime? NotBefore(string? input)
    {
        var query = input is null ? null : (JsonNode.Parse(input) as JsonArray)?.FirstOrDefault() as JsonObject;
        return query?["notBefore"]?.GetValue<DateTimeOffset>().UtcDateTime;
    }

    public static async Task DumpAsync(Rig rig, string instanceId)
    {
        var table = new TableServiceClient(rig.StorageConnectionString).GetTableClient(rig.Settings.TaskHubName + "History");
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == instanceId))
        {
            Console.WriteLine(string.Join(" | ", row.Where(kv => kv.Key is not ("odata.etag")).Select(kv => $"{kv.Key}={Trim(kv.Value)}")));
        }
    }

    private static string Trim(object? value)
    {
        var text = value is DateTimeOffset d ? d.ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture) : value?.ToString() ?? "";
        return text.Length > 60 ? text[..60] : text;
    }
}
