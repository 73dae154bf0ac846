using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ImageJobs.DashScope.Tests;

/// <summary>What the loopback responder saw.</summary>
public sealed record CapturedRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, string Body, string RawTarget)
{
    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : null;
}

/// <summary>What the loopback responder answers.</summary>
public sealed class CannedResponse
{
    public int Status { get; init; } = 200;

    public string Body { get; init; } = "{}";

    public string ContentType { get; init; } = "application/json";

    public Dictionary<string, string> Headers { get; init; } = [];

    /// <summary>Send the body gzip-compressed with Content-Encoding: gzip.</summary>
    public bool Gzip { get; init; }

    /// <summary>Never answer (until the client gives up).</summary>
    public bool Hang { get; init; }

    /// <summary>Announce a longer Content-Length, send part of the body, then abort the connection.</summary>
    public bool CutBody { get; init; }

    public static CannedResponse Json(string body, int status = 200) => new() { Status = status, Body = body };
}

/// <summary>A tiny Kestrel server on 127.0.0.1 (port 0) that captures requests and returns canned responses.</summary>
public sealed class LoopbackServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackServer(WebApplication app, Uri root)
    {
        _app = app;
        Root = root;
    }

    public Uri Root { get; }

    /// <summary>The DashScope-like base URL: {root}/api/v1.</summary>
    public Uri BaseUri => new(Root, "/api/v1");

    public ConcurrentQueue<CapturedRequest> Requests { get; } = new();

    public static Task<LoopbackServer> StartAsync(CannedResponse response) => StartAsync(_ => response);

    public static async Task<LoopbackServer> StartAsync(Func<CapturedRequest, CannedResponse> respond)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        LoopbackServer? server = null;
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
            var captured = new CapturedRequest(
                context.Request.Method, context.Request.Path.Value ?? string.Empty, context.Request.QueryString.Value ?? string.Empty, headers, body,
                context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? string.Empty);
            server!.Requests.Enqueue(captured);
            var canned = respond(captured);
            if (canned.Hang)
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                }

                return;
            }

            context.Response.StatusCode = canned.Status;
            context.Response.ContentType = canned.ContentType;
            foreach (var (name, value) in canned.Headers)
            {
                context.Response.Headers[name] = value;
            }

            var bytes = Encoding.UTF8.GetBytes(canned.Body);
            if (canned.Gzip)
            {
                using var compressed = new MemoryStream();
                await using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
                {
                    await gzip.WriteAsync(bytes);
                }

                bytes = compressed.ToArray();
                context.Response.Headers.ContentEncoding = "gzip";
            }

            if (canned.CutBody)
            {
                context.Response.ContentLength = bytes.Length + 100;
                await context.Response.Body.WriteAsync(bytes.AsMemory(0, bytes.Length / 2));
                await context.Response.Body.FlushAsync();
                context.Abort();
                return;
            }

            context.Response.ContentLength = bytes.Length;
            await context.Response.Body.WriteAsync(bytes);
        });
        await app.StartAsync();
        var address = app.Urls.First();
        server = new LoopbackServer(app, new Uri(address));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}

internal static class TestClients
{
    public const string ApiKey = "sk-test-0123456789abcdefSECRET";

    public static DashScopeClientOptions Options(LoopbackServer server, Action<DashScopeClientOptions>? configure = null)
    {
        var options = new DashScopeClientOptions { Endpoint = server.BaseUri, ApiKey = ApiKey };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>A client on a plain HttpClient (no automatic decompression).</summary>
    public static DashScopeClient Create(LoopbackServer server, Action<DashScopeClientOptions>? configure = null) =>
        new(new HttpClient(), Options(server, configure));
}

internal static class Golden
{
    public static string Path(string relative) => System.IO.Path.Combine(AppContext.BaseDirectory, "Golden", relative);

    public static string Text(string relative) => File.ReadAllText(Path(relative));

    public static System.Text.Json.Nodes.JsonObject Object(string relative) =>
        (System.Text.Json.Nodes.JsonObject)System.Text.Json.Nodes.JsonNode.Parse(Text(relative))!;
}
