using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ImageJobs.Local.Tests.Infrastructure;
using ImageJobs.Workflow.Intake;
using ImageJobs.Workflow.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace ImageJobs.Local.Tests;

/// <summary>
/// A generated sweep of bad job bodies from a seeded generator: valid jobs of every model with one field replaced by a
/// wrong type, a huge or deep value, a unicode edge case (lone surrogate escapes, raw invalid UTF-8, NUL, BOM) or a
/// number at or past a limit. Every body goes through the intake's own reading and validation; one in eight also goes
/// through the real <c>POST /api/jobs</c>. None may throw (a 5xx), and every refusal names its fields.
/// </summary>
public sealed class InputSweepTests(InputSweepTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<InputSweepTests.Fixture>
{
    public sealed class Fixture : AppFixture;

    private const int Seed = 20261201;
    private const int Bodies = 640;
    private const string Hole = "\u0001HOLE";

    private static readonly string[] s_models = ["wanx-v1", "wanx2.1-imageedit", "wan2.5-i2i-preview", "qwen-image", "qwen-image-plus"];

    private static readonly string[] s_paths =
    [
        "jobId", "model", "input", "input.prompt", "input.negative_prompt", "input.ref_img", "input.function", "input.base_image_url",
        "input.mask_image_url", "input.images", "input.images[0]", "parameters", "parameters.n", "parameters.seed", "parameters.size",
        "parameters.style", "parameters.strength", "parameters.upscale_factor", "parameters.prompt_extend", "parameters.watermark",
        "output", "output.container", "output.prefix", "notify", "notify.webhookUrl", "notify.queue", "notify.instanceId",
        "notify.eventName", "timeout", "+key",
    ];

    // Raw JSON values: wrong types, numbers at and past every limit, unicode edge cases, URLs the guard must judge.
    private static readonly string[] s_values =
    [
        "null", "true", "false", "[]", "{}", "[null]", "{\"a\":{}}", "\"\"", "\" \"", "\"\\u0000\"", "\"\\u0001\\u001f\"", "\"\\ud800\"",
        "\"\\udfff\"", "\"a\\udc00\\ud800b\"", "\"\\ud83d\\ude00\"", "\"\\ufeffa\"", "\"\\uffff\"", "\"\\u202ertl\"", "\"e\\u0301\"",
        "\"\\\\\"", "\"..\"", "\"/\"", "\"a/../b/\"", "\"%00\"", "\"\\n\"", "0", "-0", "-0.0", "1", "1.0", "1e0", "0.5", "-1", "4", "5",
        "2147483647", "2147483647.0", "2147483648", "4294967296", "9007199254740993", "1e308", "1e309", "-1e309", "1e-400",
        "123456789012345678901234567890123456789012345678901234567890", "0.0001", "86400", "82800", "82801",
        "\"P10675199DT3H\"", "\"P99999999999D\"", "\"PT0.5S\"", "\"-PT1S\"", "\"23:00:00\"", "\"23:00:01\"", "\"10675199.02:48:05.4775807\"",
        "\"1024*1024\"", "\"0*0\"", "\"99999999999*99999999999\"", "\"stylization_all\"", "\"blob:inputs/a.png\"", "\"blob:Inputs/a.png\"",
        "\"blob:\\ud800/a\"", "\"data:image/png;base64,AAAA\"", "\"data:;base64,%%%\"", "\"http://127.0.0.1/x\"", "\"http://[2002:7f00:1::]/\"",
        "\"http://[::ffff:0:7f00:1]/\"", "\"http://[64:ff9b::a9fe:a9fe]/\"", "\"http://169.254.169.254/\"", "\"ftp://1.2.3.4/\"",
        "\"http://user:pw@1.2.3.4/\"", "\"http://[::1\"", "\"imagejobs-state\"", "\"uploads\"", "\"azure-webjobs-secrets\"",
        "\"results\"", "\"Results\"", "\"a\"", "\"team-a\"",
    ];

    [Fact]
    public async Task GeneratedBadBodies_NeverThrowOrAnswer5xx_AndEveryRefusalNamesItsFields()
    {
        var random = new Random(Seed);
        var intake = fixture.App.App.Services.GetRequiredService<JobIntake>();
        var failures = new List<string>();
        int refused = 0, accepted = 0, overHttp = 0;
        for (var i = 0; i < Bodies; i++)
        {
            var (description, body) = Generate(random, i);
            try
            {
                var errors = ImageJobParser.TryParseJson(body, "The body", out var node) is { } invalid
                    ? [invalid]
                    : (await intake.ValidateAsync(node, "sweep", CancellationToken.None)).Errors;
                if (errors.Count == 0)
                {
                    accepted++;
                }
                else
                {
                    refused++;
                    if (errors.Any(e => string.IsNullOrWhiteSpace(e.Field) || string.IsNullOrWhiteSpace(e.Message)))
                    {
                        failures.Add($"{description}: an error without a field or message");
                    }
                }
            }
#pragma warning disable CA1031 // Any exception here is the bug the sweep looks for.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failures.Add($"{description}: {ex.GetType().Name}: {ex.Message}");
            }

            if (i % 8 == 0)
            {
                overHttp++;
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                using var response = await fixture.App.Http.PostAsync("api/jobs", content);
                var text = await response.Content.ReadAsStringAsync();
                if ((int)response.StatusCode >= 500)
                {
                    failures.Add($"{description}: HTTP {(int)response.StatusCode} {text}");
                }
                else if (response.StatusCode == HttpStatusCode.BadRequest
                    && (response.Content.Headers.ContentType?.MediaType != "application/problem+json"
                        || JsonNode.Parse(text)?["errors"] is not JsonObject { Count: > 0 }))
                {
                    failures.Add($"{description}: a 400 that names no field: {text}");
                }
                else if (response.StatusCode is not (HttpStatusCode.BadRequest or HttpStatusCode.Accepted))
                {
                    failures.Add($"{description}: HTTP {(int)response.StatusCode} {text}");
                }
            }
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"seed {Seed}: {Bodies} bodies, {refused} refused, {accepted} valid, {overHttp} also over HTTP, {failures.Count} failures (exceptions or 5xx)"));
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        Assert.True(refused >= Bodies * 3 / 4, $"Only {refused} of {Bodies} generated bodies were bad; the generator lost its edge.");
    }

    private static (string Description, byte[] Body) Generate(Random random, int index)
    {
        var model = s_models[random.Next(s_models.Length)];
        var job = BaseJob(model);
        var kind = random.Next(10);
        if (kind == 9)
        {
            // Raw invalid UTF-8 inside a string, or a body cut short.
            var text = job.ToJsonString();
            var bytes = Encoding.UTF8.GetBytes(text).ToList();
            byte[][] bad = [[0xff, 0xfe], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80]];
            var quote = text.IndexOf("\"a cat", StringComparison.Ordinal);
            if (random.Next(4) == 0 || quote < 0)
            {
                return ($"#{index} {model} cut at {bytes.Count / 2}", [.. bytes.Take(bytes.Count / 2)]);
            }

            var which = bad[random.Next(bad.Length)];
            bytes.InsertRange(quote + 2, which);
            return ($"#{index} {model} invalid UTF-8 {Convert.ToHexString(which)} in the prompt", [.. bytes]);
        }

        var path = s_paths[random.Next(s_paths.Length)];
        var value = kind switch
        {
            7 => Huge(random),
            8 => Deep(random),
            _ => s_values[random.Next(s_values.Length)],
        };
        var description = path == "+key"
            ? $"#{index} {model} an odd property name"
            : $"#{index} {model} {path} = {(value.Length > 60 ? value[..60] + "…" : value)}";
        return (description, Encoding.UTF8.GetBytes(Place(job, path, value, random)));
    }

    private static JsonObject BaseJob(string model)
    {
        JsonObject input = model switch
        {
            "wanx2.1-imageedit" => new() { ["function"] = "stylization_all", ["prompt"] = "a cat", ["base_image_url"] = "blob:inputs/cat.png" },
            "wan2.5-i2i-preview" => new() { ["prompt"] = "a cat", ["images"] = new JsonArray("blob:inputs/cat.png") },
            _ => new() { ["prompt"] = "a cat" },
        };
        return new JsonObject
        {
            ["jobId"] = "sweep-1",
            ["model"] = model,
            ["input"] = input,
            ["parameters"] = new JsonObject { ["n"] = 1 },
            ["output"] = new JsonObject { ["container"] = "results", ["prefix"] = "sweep/" },
            ["notify"] = new JsonObject { ["queue"] = "sweep-done" },
            ["timeout"] = 60,
        };
    }

    // Puts the raw JSON value at the path (a new object when a parent is missing), through a placeholder string.
    private static string Place(JsonObject job, string path, string value, Random random)
    {
        if (path == "+key")
        {
            var keys = (string[])["\\ud800", "\\udfff", "", " ", "\\u0000", "jobId ", "JOBID", "input.prompt"];
            var objects = (string[])["", "input", "parameters", "output", "notify"];
            var where = objects[random.Next(objects.Length)];
            var target = where.Length == 0 ? job : job[where]!.AsObject();
            target[Hole] = 1;
            return job.ToJsonString().Replace(Quoted(Hole), $"\"{keys[random.Next(keys.Length)]}\"", StringComparison.Ordinal);
        }

        JsonNode parent = job;
        var parts = path.Split('.');
        for (var i = 0; i < parts.Length - 1; i++)
        {
            parent = parent[parts[i]] ?? (parent[parts[i]] = new JsonObject());
        }

        var last = parts[^1];
        if (last.EndsWith("[0]", StringComparison.Ordinal))
        {
            var array = parent[last[..^3]] as JsonArray ?? [];
            parent[last[..^3]] = array.Count > 0 ? array : (array = ["x"]);
            array[0] = Hole;
        }
        else
        {
            parent[last] = Hole;
        }

        return job.ToJsonString().Replace(Quoted(Hole), value, StringComparison.Ordinal);
    }

    private static string Quoted(string text) => JsonValue.Create(text).ToJsonString();

    private static string Huge(Random random) => random.Next(4) switch
    {
        0 => "\"" + new string('a', 100_000) + "\"",
        1 => "\"" + string.Concat(Enumerable.Repeat("\\ud83d\\ude00", 5_000)) + "\"",
        2 => "[" + string.Join(",", Enumerable.Repeat("1", 50_000)) + "]",
        _ => "\"" + new string('9', 20_000) + "\"",
    };

    private static string Deep(Random random)
    {
        var depth = random.Next(2) == 0 ? 60 : 300;
        return random.Next(2) == 0
            ? new string('[', depth) + new string(']', depth)
            : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);
    }
}
