using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ImageJobs.Local.Tests.Infrastructure;

/// <summary>One webhook delivery as received.</summary>
public sealed record WebhookDelivery(string? Id, string? Timestamp, string? Signature, string? ContentType, byte[] Body);

/// <summary>A Kestrel webhook receiver on 127.0.0.1:0 that records every delivery.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<WebhookDelivery> _deliveries = new();

    private WebhookReceiver(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public IReadOnlyCollection<WebhookDelivery> Deliveries => _deliveries;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hook", async (HttpRequest request) =>
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer);
            receiver._deliveries.Enqueue(new WebhookDelivery(
                request.Headers["webhook-id"].FirstOrDefault(), request.Headers["webhook-timestamp"].FirstOrDefault(),
                request.Headers["webhook-signature"].FirstOrDefault(), request.ContentType, buffer.ToArray()));
            return Results.NoContent();
        });
        app.MapPost("/redirect", (HttpRequest request) =>
        {
            receiver._deliveries.Enqueue(new WebhookDelivery(request.Headers["webhook-id"].FirstOrDefault(), null, null, "redirected", []));
            return Results.Redirect(request.Query["to"].ToString(), permanent: false, preserveMethod: true);
        });
        app.MapPost("/fail", (HttpRequest request) =>
        {
            receiver._deliveries.Enqueue(new WebhookDelivery(request.Headers["webhook-id"].FirstOrDefault(), null, null, "failed", []));
            return Results.StatusCode(503);
        });
        await app.StartAsync();
        receiver.Url = new Uri(app.Urls.First().TrimEnd('/') + "/hook");
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
