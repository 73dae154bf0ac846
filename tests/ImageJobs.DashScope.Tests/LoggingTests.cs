using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace ImageJobs.DashScope.Tests;

public class LoggingTests
{
    [Fact]
    public async Task Logs_SuccessAndFailure_HaveStableEventIdsAndNeverTheKey()
    {
        var logger = new ListLogger();
        var calls = 0;
        await using var server = await LoopbackServer.StartAsync(_ => Interlocked.Increment(ref calls) == 1
            ? CannedResponse.Json(Golden.Text("Responses/003_qwen-image_submit_pending.json"))
            : CannedResponse.Json("""{"code":"InvalidApiKey","message":"Invalid API-key provided.","request_id":"r"}""", 401));
        var client = new DashScopeClient(new HttpClient(), TestClients.Options(server), logger);
        await client.SubmitAsync(new QwenImageRequest("cat"));
        await Assert.ThrowsAsync<DashScopeException>(() => client.GetTaskAsync("t"));

        Assert.Contains(logger.Entries, e => e.EventId == 1100 && e.Message.Contains("0385dc79", StringComparison.Ordinal));
        Assert.Contains(logger.Entries, e => e.EventId == 1101);
        Assert.Contains(logger.Entries, e => e.EventId == 1102 && e.Message.Contains("InvalidApiKey", StringComparison.Ordinal));
        Assert.All(logger.Entries, e => Assert.DoesNotContain(TestClients.ApiKey, e.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void TaskStatus_JsonRoundTrip_IsItsWireString()
    {
        var json = JsonSerializer.Serialize(new { Status = DashScopeTaskStatus.Canceled });
        Assert.Equal("""{"Status":"CANCELED"}""", json);
        Assert.Equal(new DashScopeTaskStatus("NEW_THING"), JsonSerializer.Deserialize<DashScopeTaskStatus>("\"NEW_THING\""));
    }

    private sealed class ListLogger : ILogger<DashScopeClient>
    {
        public ConcurrentBag<(int EventId, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((eventId.Id, formatter(state, exception) + " " + exception));
    }
}
