using System.Reflection;
using System.Text.RegularExpressions;
using ImageJobs.DashScope;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Intake;
using ImageJobs.Workflow.Outbound;
using ImageJobs.Workflow.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ImageJobs.Infra.Tests;

/// <summary>
/// The app settings main.bicep and api.bicep give the function app, against the configuration the code reads: every
/// app setting is a key the code binds, every key the app needs in Azure is set, and the values agree with the code's
/// names, defaults and choices.
/// </summary>
public sealed partial class AppSettingsCodeTests
{
    /// <summary>The options sections <c>AddImageJobs</c> binds, as app-setting prefixes, with their classes.</summary>
    private static readonly (string Prefix, Type Options)[] Sections =
    [
        (Setting(ImageJobsOptions.SectionName), typeof(ImageJobsOptions)),
        (Setting(OutboundOptions.SectionName), typeof(OutboundOptions)),
        (Setting(UploadOptions.SectionName), typeof(UploadOptions)),
        ("DashScope", typeof(DashScopeClientOptions)), // AddImageJobs: AddDashScopeClient(configuration.GetSection("DashScope"))
    ];

    /// <summary>Root keys the code reads by name.</summary>
    private static readonly string[] LiteralKeys = [DashScopeClientOptions.ApiKeyEnvironmentVariable, "IMAGEJOBS_WEBHOOK_SECRET"];

    /// <summary>The identity-based connection <c>StorageClients</c> (and the host's triggers) read.</summary>
    private static readonly string[] StorageKeys =
        [.. new[] { "credential", "clientId", "blobServiceUri", "queueServiceUri" }.Select(k => $"{StorageClients.ConnectionName}__{k}")];

    /// <summary>Read by the Functions host and platform, not by app code.</summary>
    private static readonly string[] HostKeys =
    [
        $"{StorageClients.ConnectionName}__tableServiceUri", // Durable Task's Azure Storage backend
        "APPLICATIONINSIGHTS_CONNECTION_STRING", "APPLICATIONINSIGHTS_AUTHENTICATION_STRING", "AZURE_CLIENT_ID",
    ];

    [Fact]
    public void AppSettings_EveryName_IsAKeyTheCodeOrTheHostReads()
    {
        foreach (string name in BicepText.AppSettingNames())
        {
            if (LiteralKeys.Contains(name) || StorageKeys.Contains(name) || HostKeys.Contains(name))
            {
                continue;
            }

            var section = Sections.Where(s => name.StartsWith(s.Prefix + "__", StringComparison.OrdinalIgnoreCase))
                .OrderByDescending(s => s.Prefix.Length)
                .Select(s => ((string, Type)?)s)
                .FirstOrDefault();
            Assert.True(section is not null, $"app setting {name} is in no section the app binds ({string.Join(", ", Sections.Select(s => s.Prefix))})");
            string property = name[(section.Value.Item1.Length + 2)..];
            Assert.True(Bindable(section.Value.Item2).Contains(property),
                $"app setting {name}: {section.Value.Item2.Name} has no bindable property '{property}' (has {string.Join(", ", Bindable(section.Value.Item2))})");
        }
    }

    [Fact]
    public void AppSettings_EveryKeyTheAppNeedsInAzure_IsSet()
    {
        var names = BicepText.AppSettingNames();
        string[] needed =
        [
            .. LiteralKeys, .. StorageKeys, .. HostKeys,
            "DashScope__Region",
            Setting(ImageJobsOptions.SectionName) + "__" + nameof(ImageJobsOptions.CompletionQueue), // infra creates the queue
            Setting(ImageJobsOptions.SectionName) + "__" + nameof(ImageJobsOptions.StateContainer), // infra creates the container
        ];

        Assert.All(needed, key => Assert.Contains(key, names));
    }

    [Fact]
    public void AppSettings_AsEnvironmentVariables_ReachTheOptionsAndStorageClients()
    {
        // App settings reach the worker as environment variables, where "__" is the section separator.
        var values = BicepText.AppSettingNames().ToDictionary(n => n.Replace("__", ":", StringComparison.Ordinal), n => (string?)SampleValue(n.Replace("__", ":", StringComparison.Ordinal)));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging();
        services.AddImageJobs(configuration);
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<ImageJobsOptions>>().Value;
        Assert.Equal(SampleValue("ImageJobs:CompletionQueue"), options.CompletionQueue);
        Assert.Equal(SampleValue("ImageJobs:StateContainer"), options.StateContainer);
        Assert.Equal(long.Parse(SampleValue("ImageJobs:MaxResultImageBytes"), System.Globalization.CultureInfo.InvariantCulture), options.MaxResultImageBytes);
        Assert.Equal(InputResolutionMode.SasUrl, options.InputMode);
        Assert.Equal(SampleValue("IMAGEJOBS_WEBHOOK_SECRET"), options.WebhookSecret);
        Assert.Equal(SampleValue("ImageJobs:Uploads:DefaultPrompt"), provider.GetRequiredService<IOptions<UploadOptions>>().Value.DefaultPrompt);
        var dashScope = provider.GetRequiredService<IOptions<DashScopeClientOptions>>().Value;
        Assert.Equal(DashScopeRegions.Singapore, dashScope.GetEndpoint());
        Assert.Equal(SampleValue("DASHSCOPE_API_KEY"), dashScope.GetApiKey());
        Assert.Equal(new Uri(SampleValue("AzureWebJobsStorage:blobServiceUri")), StorageClients.CreateBlobServiceClient(configuration).Uri);
        Assert.Equal(new Uri(SampleValue("AzureWebJobsStorage:queueServiceUri")), StorageClients.CreateQueueServiceClient(configuration).Uri);

        values.Remove("AzureWebJobsStorage:blobServiceUri");
        var withoutBlob = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        Assert.Throws<InvalidOperationException>(() => StorageClients.CreateBlobServiceClient(withoutBlob));
    }

    [Fact]
    public void MainBicep_Choices_AreTheCodesChoicesAndDefaults()
    {
        var main = BicepText.Infra("main.bicep");
        var defaults = new ImageJobsOptions();

        Assert.Equal(Enum.GetNames<InputResolutionMode>(), Allowed(main, "inputMode"));
        Assert.Equal($"'{defaults.InputMode}'", Param(main, "inputMode").Default);
        Assert.Equal(defaults.MaxResultImageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), Param(main, "maxResultImageBytes").Default);
        Assert.All(Allowed(main, "dashScopeRegion"), region => Assert.NotNull(DashScopeRegions.GetEndpoint(region)));
        Assert.Equal("''", Param(main, "uploadDefaultPrompt").Default);
        Assert.Null(new UploadOptions().DefaultPrompt);
    }

    private static string Setting(string section) => section.Replace(":", "__", StringComparison.Ordinal);

    private static HashSet<string> Bindable(Type options) =>
        options.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true } || p.PropertyType.IsGenericType && p.PropertyType.GetGenericTypeDefinition() == typeof(IList<>))
            .Select(p => p.Name)
            .ToHashSet(StringComparer.OrdinalIgnoreCase);

    private static string SampleValue(string key) => key switch
    {
        "ImageJobs:MaxResultImageBytes" => "1234567",
        "ImageJobs:InputMode" => nameof(InputResolutionMode.SasUrl),
        "DashScope:Region" => "Singapore",
        "AzureWebJobsStorage:credential" => "managedidentity",
        "AzureWebJobsStorage:clientId" => "00000000-0000-0000-0000-000000000001",
        _ when key.EndsWith("ServiceUri", StringComparison.Ordinal) => $"https://stsample.{key.Split(':')[1][..^"ServiceUri".Length]}.core.windows.net/",
        _ => "sample-" + key.Replace(":", "-", StringComparison.Ordinal).ToLowerInvariant(),
    };

    private static BicepParam Param(BicepText bicep, string name) => Assert.Single(bicep.Params(), p => p.Name == name);

    private static string[] Allowed(BicepText bicep, string param)
    {
        var match = Regex.Match(bicep.Text, @"@allowed\(\[(?<items>[^\]]*)\]\)\s*\n(@.*\n)*param " + param + " ");
        Assert.True(match.Success, $"param {param} has no @allowed list");
        return [.. match.Groups["items"].Value.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => v.Trim('\''))];
    }
}
