using System.Text.Json;
using System.Text.RegularExpressions;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Jobs;

namespace ImageJobs.Infra.Tests;

public sealed partial class InfraTests
{
    private static readonly string[] RequiredRoleIds =
    [
        "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", // Storage Blob Data Owner
        "974c5e8b-45b9-4653-ba55-5f855dd0fb88", // Storage Queue Data Contributor
        "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", // Storage Table Data Contributor
        "3913510d-42f4-4e42-8a64-420c390055eb", // Monitoring Metrics Publisher
        "4633458b-17de-408a-b874-0445c86b69e6", // Key Vault Secrets User
    ];

    private static IEnumerable<string> AllBicepFiles() =>
        Directory.EnumerateFiles(Repo.Infra, "*.bicep", SearchOption.AllDirectories).Order(StringComparer.Ordinal);

    [Fact]
    public void Rbac_EveryRequiredRole_IsAssignedToIdentityAndUserWithGuidNames()
    {
        var rbac = BicepText.Infra("app", "rbac.bicep");
        var roleVariables = RequiredRoleIds.ToDictionary(
            id => id,
            id => Regex.Match(rbac.Text, $@"var\s+(?<name>\w+)\s*=\s*'{id}'").Groups["name"].Value);
        string[] storageRoles = Regex.Match(rbac.Text, @"var storageRoleIds = \[(?<items>[^\]]*)\]").Groups["items"].Value
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var assignments = rbac.ResourceBlocks("Microsoft.Authorization/roleAssignments");

        Assert.All(roleVariables, role => Assert.False(string.IsNullOrEmpty(role.Value), $"role {role.Key} is not declared"));
        Assert.Equal(3, storageRoles.Length);
        Assert.Equal(6, assignments.Count); // per principal: storage (loop over 3), metrics publisher, secrets user
        Assert.All(assignments, block => Assert.Matches(@"\n\s*name:\s*guid\(\w+\.id,\s*\w+,\s*\w+\)", block));
        foreach (string principal in new[] { "identityPrincipalId", "userPrincipalId" })
        {
            var assigned = assignments
                .Where(b => b.Contains($"principalId: {principal}", StringComparison.Ordinal))
                .SelectMany(b => b.Contains("in storageRoleIds", StringComparison.Ordinal)
                    ? storageRoles
                    : roleVariables.Values.Where(v => b.Contains($"roleDefinitions', {v})", StringComparison.Ordinal)))
                .ToList();
            Assert.Equal(roleVariables.Values.Order(StringComparer.Ordinal), assigned.Order(StringComparer.Ordinal));
        }

        Assert.All(
            assignments.Where(b => b.Contains("principalId: userPrincipalId", StringComparison.Ordinal)),
            block => Assert.Contains("if (!empty(userPrincipalId))", block, StringComparison.Ordinal));
    }

    [Fact]
    public void Storage_ContainersAndQueues_AreDeclaredWithTheNamesTheCodeUses()
    {
        var main = BicepText.Infra("main.bicep");
        var storage = BicepText.Infra("app", "storage.bicep");
        var defaults = new ImageJobsOptions();

        Assert.Contains($"var uploadsContainerName = '{ImageJobsOptions.UploadsContainer}'", main.Text, StringComparison.Ordinal);
        Assert.Contains($"var resultsContainerName = '{ImageJobParser.DefaultContainer}'", main.Text, StringComparison.Ordinal);
        Assert.Contains($"var stateContainerName = '{defaults.StateContainer}'", main.Text, StringComparison.Ordinal);
        Assert.Contains($"var jobsQueueName = '{ImageJobsOptions.JobsQueue}'", main.Text, StringComparison.Ordinal);
        Assert.Contains($"var completionQueueName = '{defaults.CompletionQueue}'", main.Text, StringComparison.Ordinal);
        Assert.Equal(ImageJobsOptions.JobsQueue + "-poison", ImageJobsOptions.PoisonQueue);
        var storageArgs = main.ObjectEntries(@"module storage '[^']+' = \{", "params:").ToDictionary(e => e.Key, e => e.Value);
        foreach (string name in new[] { "uploadsContainerName", "resultsContainerName", "stateContainerName", "jobsQueueName", "completionQueueName", "deploymentContainerName" })
        {
            Assert.Equal(name, storageArgs[name]);
        }

        var containers = storage.ResourceBlocks("Microsoft.Storage/storageAccounts/blobServices/containers")
            .Select(b => Regex.Match(b, @"\n\s*name:\s*(?<n>.+)").Groups["n"].Value.Trim()).ToList();
        Assert.Equal(["deploymentContainerName", "uploadsContainerName", "resultsContainerName", "stateContainerName"], containers);
        var queues = storage.ResourceBlocks("Microsoft.Storage/storageAccounts/queueServices/queues")
            .Select(b => Regex.Match(b, @"\n\s*name:\s*(?<n>.+)").Groups["n"].Value.Trim()).ToList();
        Assert.Equal(["jobsQueueName", "'${jobsQueueName}-poison'", "completionQueueName"], queues);
        Assert.Single(storage.ResourceBlocks("Microsoft.Storage/storageAccounts/tableServices"));
    }

    [Fact]
    public void Storage_SharedKeys_AreDisabledAndNeverRead()
    {
        var storage = BicepText.Infra("app", "storage.bicep");

        Assert.Contains("allowSharedKeyAccess: false", storage.Text, StringComparison.Ordinal);
        Assert.Contains("allowBlobPublicAccess: false", storage.Text, StringComparison.Ordinal);
        foreach (string file in AllBicepFiles())
        {
            string text = File.ReadAllText(file);
            Assert.DoesNotContain("AccountKey=", text, StringComparison.Ordinal);
            Assert.DoesNotContain("listKeys(storage", text, StringComparison.Ordinal);
            Assert.DoesNotContain(".listKeys()", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AppSettings_Storage_IsIdentityBasedWithBlobQueueAndTable()
    {
        var settings = BicepText.AppSettings();

        Assert.Equal("'managedidentity'", settings["AzureWebJobsStorage__credential"]);
        Assert.Equal("identityClientId", settings["AzureWebJobsStorage__clientId"]);
        Assert.Equal("storage.properties.primaryEndpoints.blob", settings["AzureWebJobsStorage__blobServiceUri"]);
        Assert.Equal("storage.properties.primaryEndpoints.queue", settings["AzureWebJobsStorage__queueServiceUri"]);
        Assert.Equal("storage.properties.primaryEndpoints.table", settings["AzureWebJobsStorage__tableServiceUri"]);
        Assert.Equal("'ClientId=${identityClientId};Authorization=AAD'", settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]);
        Assert.DoesNotContain("AzureWebJobsStorage", settings.Keys);
        Assert.DoesNotContain("FUNCTIONS_WORKER_RUNTIME", settings.Keys); // Flex: runtime comes from functionAppConfig
    }

    [Fact]
    public void AppSettings_Secrets_AreKeyVaultReferencesResolvedWithTheIdentity()
    {
        var settings = BicepText.AppSettings();
        var api = BicepText.Infra("app", "api.bicep");
        var vault = BicepText.Infra("app", "keyvault.bicep");

        Assert.Equal("'@Microsoft.KeyVault(SecretUri=${keyVault.outputs.dashScopeApiKeySecretUri})'", settings["DASHSCOPE_API_KEY"]);
        Assert.Equal("'@Microsoft.KeyVault(SecretUri=${keyVault.outputs.webhookSecretUri})'", settings["IMAGEJOBS_WEBHOOK_SECRET"]);
        Assert.Contains("keyVaultReferenceIdentity: identityId", api.Text, StringComparison.Ordinal);
        Assert.Contains("enableRbacAuthorization: true", vault.Text, StringComparison.Ordinal);
        Assert.Contains("output dashScopeApiKeySecretUri string = dashScopeApiKeySecret.properties.secretUri", vault.Text, StringComparison.Ordinal);
        Assert.Contains("output webhookSecretUri string = webhookSecretSecret.properties.secretUri", vault.Text, StringComparison.Ordinal);
        var main = BicepText.Infra("main.bicep");
        Assert.All(
            main.Params().Where(p => p.Name is "dashScopeApiKey" or "webhookSecret"),
            p => Assert.Matches(@"@secure\(\)\s*\n(@\w+\(.*\)\s*\n)*param " + p.Name, main.Text));
    }

    [Fact]
    public void AppSettingNames_AreExactlyTheDocumentedOnes()
    {
        string[] expected =
        [
            "APPLICATIONINSIGHTS_AUTHENTICATION_STRING", "APPLICATIONINSIGHTS_CONNECTION_STRING", "AZURE_CLIENT_ID",
            "AzureWebJobsStorage__blobServiceUri", "AzureWebJobsStorage__clientId", "AzureWebJobsStorage__credential",
            "AzureWebJobsStorage__queueServiceUri", "AzureWebJobsStorage__tableServiceUri", "DASHSCOPE_API_KEY",
            "DashScope__Region", "IMAGEJOBS_WEBHOOK_SECRET", "ImageJobs__CompletionQueue", "ImageJobs__InputMode",
            "ImageJobs__MaxResultImageBytes", "ImageJobs__StateContainer", "ImageJobs__Uploads__DefaultPrompt",
        ];

        var names = BicepText.AppSettingNames();

        Assert.Equal(expected.Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
        string readme = Repo.Read("infra", "README.md");
        Assert.All(names, name => Assert.Contains($"| `{name}` |", readme, StringComparison.Ordinal));
    }

    [Fact]
    public void Api_FlexConsumption_RunsDotnetIsolated10WithAlwaysReadyDurable()
    {
        var api = BicepText.Infra("app", "api.bicep");

        Assert.Matches(@"name: 'FC1'\s*\n\s*tier: 'FlexConsumption'", api.Text);
        Assert.Contains("kind: 'functionapp,linux'", api.Text, StringComparison.Ordinal);
        Assert.Matches(@"runtime: \{\s*\n\s*name: 'dotnet-isolated'\s*\n\s*version: '10.0'", api.Text);
        Assert.Contains("param instanceMemoryMB int = 2048", api.Text, StringComparison.Ordinal);
        Assert.Matches(@"alwaysReady: \[\s*\n\s*\{\s*\n\s*name: 'durable'\s*\n\s*instanceCount: durableAlwaysReadyInstances", api.Text);
        Assert.Contains("param durableAlwaysReadyInstances int = 1", api.Text, StringComparison.Ordinal);
        Assert.Matches(@"type: 'UserAssignedIdentity'\s*\n\s*userAssignedIdentityResourceId: identityId", api.Text);
        Assert.Contains("'azd-service-name': 'api'", api.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Main_ParamsWithoutDefault_AreAllInMainParametersJson()
    {
        var main = BicepText.Infra("main.bicep");
        using var json = JsonDocument.Parse(Repo.Read("infra", "main.parameters.json"));
        var provided = json.RootElement.GetProperty("parameters").EnumerateObject().Select(p => p.Name).ToHashSet();
        var declared = main.Params();

        Assert.Contains(declared, p => p.Name == "environmentName");
        Assert.All(declared.Where(p => p.Default is null), p => Assert.Contains(p.Name, provided));
        Assert.All(provided, name => Assert.Contains(declared, p => p.Name == name)); // no stale entries
        Assert.Equal("${AZURE_ENV_NAME}", json.RootElement.GetProperty("parameters").GetProperty("environmentName").GetProperty("value").GetString());
        Assert.Contains("targetScope = 'subscription'", main.Text, StringComparison.Ordinal);
        Assert.Contains("var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))", main.Text, StringComparison.Ordinal);
        Assert.Contains("'rg-${environmentName}'", main.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Modules_EveryReferencedPath_Exists()
    {
        int modules = 0;
        foreach (string file in AllBicepFiles())
        {
            var bicep = BicepText.Load(file);
            foreach (string module in bicep.ModulePaths())
            {
                modules++;
                string target = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, module));
                Assert.True(File.Exists(target), $"{file}: module '{module}' does not exist");
            }
        }

        Assert.Equal(8, modules);
    }

    [Fact]
    public void Main_Outputs_AreUpperSnakeAndIncludeWhatAzdAndTheHooksRead()
    {
        var outputs = BicepText.Infra("main.bicep").Outputs().Select(o => o.Name).ToList();

        Assert.All(outputs, name => Assert.Matches("^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$", name));
        Assert.Equal(outputs.Count, outputs.Distinct(StringComparer.Ordinal).Count());
        string hooks = string.Concat(Directory.EnumerateFiles(Path.Combine(Repo.Infra, "hooks")).Select(File.ReadAllText));
        foreach (Match used in Regex.Matches(hooks, @"\$(env:|\{)?(?<name>(AZURE|IMAGEJOBS|DASHSCOPE)_[A-Z0-9_]+)"))
        {
            string name = used.Groups["name"].Value;
            bool fromAzd = name is "AZURE_RESOURCE_GROUP" or "DASHSCOPE_API_KEY" or "IMAGEJOBS_WEBHOOK_SECRET"
                or "IMAGEJOBS_ENABLE_UPLOAD_SUBSCRIPTION";
            Assert.True(fromAzd || outputs.Contains(name), $"the hooks read {name}, which main.bicep does not output");
        }

        Assert.Contains("AZURE_LOCATION", outputs);
        Assert.Contains("AZURE_FUNCTION_APP_NAME", outputs);
        Assert.Contains("AZURE_STORAGE_ACCOUNT_NAME", outputs);
        Assert.Contains("AZURE_STORAGE_BLOB_ENDPOINT", outputs);
    }

    [Fact]
    public void EventGrid_UploadSubscription_TargetsTheBlobExtensionWebhookForUploadsOnly()
    {
        var subscription = BicepText.Infra("app", "eventgrid-subscription.bicep");
        var topic = BicepText.Infra("app", "eventgrid.bicep");

        Assert.Contains("listKeys('${app.id}/host/default', '2024-04-01').systemKeys.blobs_extension", subscription.Text, StringComparison.Ordinal);
        Assert.Contains(
            "'https://${app.properties.defaultHostName}/runtime/webhooks/blobs?functionName=Host.Functions.${functionName}&code=${blobsExtensionKey}'",
            subscription.Text, StringComparison.Ordinal);
        Assert.Contains("subjectBeginsWith: '/blobServices/default/containers/uploads/'", subscription.Text, StringComparison.Ordinal);
        Assert.Contains("'Microsoft.Storage.BlobCreated'", subscription.Text, StringComparison.Ordinal);
        Assert.Contains("topicType: 'Microsoft.Storage.StorageAccounts'", topic.Text, StringComparison.Ordinal);
        Assert.Contains("module uploadSubscription 'app/eventgrid-subscription.bicep' = if (enableUploadSubscription)", BicepText.Infra("main.bicep").Text, StringComparison.Ordinal);
    }

    [Fact]
    public void AzureYaml_ApiService_IsTheFunctionsProjectHostedAsFunction()
    {
        string yaml = Repo.Read("azure.yaml").Replace("\r\n", "\n", StringComparison.Ordinal);

        Assert.Matches(@"(?m)^name: imagejobs$", yaml);
        Assert.Matches(@"(?m)^services:\n  api:\n    project: \./src/ImageJobs\.Functions\n    language: dotnet\n    host: function$", yaml);
        foreach (Match run in Regex.Matches(yaml, @"run: (?<path>\./\S+)"))
        {
            Assert.True(File.Exists(Repo.PathOf(run.Groups["path"].Value[2..])), $"hook script {run.Groups["path"].Value} does not exist");
        }

        Assert.Matches(@"postprovision:\n    posix:\n      shell: sh\n      run: \./infra/hooks/postprovision\.sh", yaml);
        Assert.Matches(@"    windows:\n      shell: pwsh\n      run: \./infra/hooks/postprovision\.ps1", yaml);
    }
}
