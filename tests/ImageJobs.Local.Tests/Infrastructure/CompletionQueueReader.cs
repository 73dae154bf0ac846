using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Azure.Storage.Queues;

namespace ImageJobs.Local.Tests.Infrastructure;

/// <summary>Drains a completion queue (base64 CloudEvents) and keeps every event by subject, so tests can look theirs up.</summary>
public sealed class CompletionQueueReader(QueueClient queue)
{
    private readonly ConcurrentDictionary<string, ConcurrentBag<JsonObject>> _bySubject = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Every event received so far for a job.</summary>
    public IReadOnlyCollection<JsonObject> For(string jobId) => _bySubject.TryGetValue(jobId, out var bag) ? bag : [];

    /// <summary>Waits until at least one event for the job was received, and returns the first.</summary>
    public Task<JsonObject> WaitForAsync(string jobId) => Eventually.GetAsync(async () =>
    {
        await DrainAsync();
        return For(jobId).FirstOrDefault();
    }, $"a completion message for '{jobId}' on queue '{queue.Name}'");

    public async Task DrainAsync()
    {
        await _gate.WaitAsync();
        try
        {
            await queue.CreateIfNotExistsAsync();
            while (true)
            {
                var messages = (await queue.ReceiveMessagesAsync(32)).Value;
                if (messages.Length == 0)
                {
                    return;
                }

                foreach (var message in messages)
                {
                    var text = message.Body.ToString();
                    var json = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(text));
                    var evt = JsonNode.Parse(json)!.AsObject();
                    _bySubject.GetOrAdd(evt["subject"]!.GetValue<string>(), _ => []).Add(evt);
                    await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }
}
