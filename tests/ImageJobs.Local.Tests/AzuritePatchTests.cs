using System.Diagnostics;
using System.Text.Json.Nodes;
using ImageJobs.Testing;

namespace ImageJobs.Local.Tests;

/// <summary>
/// The Azurite that <c>npm ci</c> installs carries <c>patches/azurite+3.37.0.patch</c>: its queue store's
/// <c>clearExpiredMessages</c>, which every receive, delete and update runs, removes nothing when no message has expired.
/// Stock Azurite 3.37 calls LokiJS's <c>remove([])</c> there, which walks every message of every queue in the account.
/// </summary>
public sealed class AzuritePatchTests
{
    // Loads the installed store in memory, counts calls to the messages collection's remove(), and runs
    // clearExpiredMessages on a queue with no expired message (beside a queue with a live one), then on a queue with one
    // expired message (which must still be removed).
    private const string Probe = """
        const Store = require(process.argv[1]).default;
        (async () => {
          const store = new Store("patch-probe-" + process.pid, true);
          await store.init();
          store.checkQueueExist = () => {};
          const coll = store.db.getCollection(store.MESSAGES_COLLECTION);
          let removes = 0;
          const remove = coll.remove.bind(coll);
          coll.remove = docs => { removes++; return remove(docs); };
          const now = Date.now();
          const message = (queueName, messageId, expirationTime) => ({ accountName: "a", queueName, messageId, expirationTime, timeNextVisible: now });
          coll.insert(message("live", "m1", now + 3600000));
          await store.clearExpiredMessages("a", "live");
          await store.clearExpiredMessages("a", "empty");
          const removesWhenNoneExpired = removes;
          coll.insert(message("expired", "m2", now - 1000));
          await store.clearExpiredMessages("a", "expired");
          console.log(JSON.stringify({ removesWhenNoneExpired, removesWithOneExpired: removes - removesWhenNoneExpired, left: coll.count() }));
        })().catch(e => { console.error(e); process.exit(1); });
        """;

    [Fact]
    public async Task ClearExpiredMessages_NoMessageExpired_RemovesNothing()
    {
        var store = RepoPaths.Combine("node_modules", "azurite", "dist", "src", "queue", "persistence", "LokiQueueMetadataStore.js");
        Assert.True(File.Exists(store), $"{store} is not installed: run 'npm ci' at the repository root.");

        var result = await RunNodeAsync(Probe, store);

        Assert.True(result["removesWhenNoneExpired"]!.GetValue<int>() == 0,
            "Azurite's clearExpiredMessages called remove() with no expired message: the installed Azurite lacks "
            + "patches/azurite+3.37.0.patch (run 'npm ci', whose postinstall applies it with patch-package).");
        Assert.Equal(1, result["removesWithOneExpired"]!.GetValue<int>());
        Assert.Equal(1, result["left"]!.GetValue<int>());
    }

    private static async Task<JsonNode> RunNodeAsync(string script, params string[] arguments)
    {
        var psi = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
        };
        psi.ArgumentList.Add("-e");
        psi.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }

        using var node = Process.Start(psi)!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(node.ExitCode == 0, $"node exited {node.ExitCode}:\n{await stderr}");
        return JsonNode.Parse((await stdout).Trim())!;
    }
}
