using System.Diagnostics;
using System.Text.Json.Nodes;
using ImageJobs.Testing;

namespace ImageJobs.Local.Tests;

/// <summary>
/// The Azurite that <c>npm ci</c> installs carries <c>patches/azurite+3.37.0.patch</c>, which takes the whole-collection
/// work out of its stores' hot paths (LokiJS ranges over an index for a query's first term only, and rebuilds every index
/// after a batch update or remove):
/// <list type="bullet">
/// <item>the queue store's <c>clearExpiredMessages</c>, which every receive, delete and update runs, removes nothing when
/// no message has expired (stock: <c>remove([])</c>, which walks every message of every queue), and finds the expired
/// ones by an expiration-time index;</item>
/// <item>a receive finds its messages by the queue index, not the account index every message shares, and updates them
/// one by one;</item>
/// <item>a table query on one partition, and a point read, range over the PartitionKey index first (stock: a scan of the
/// whole table, or of every row sharing the row key);</item>
/// <item>deleting an extent (the garbage collector, once per extent) removes one document without a rebuild.</item>
/// </list>
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

    // The stores' other hot paths, each beside a spy on LokiJS: which binary index a lookup ranges over first
    // (calculateRange), and whether a call rebuilds every index of the collection (ensureAllIndexes, a sort of every
    // document). LokiJS ranges over an index for the first term of a query only, and rebuilds all indexes after a batch
    // update or remove.
    private const string IndexProbe = """
        const root = process.argv[1] + "/node_modules/azurite/dist/src/";
        const spy = coll => {
          const seen = { ranges: [], rebuilds: 0 };
          const range = coll.calculateRange.bind(coll);
          coll.calculateRange = (op, prop, val) => { seen.ranges.push(prop); return range(op, prop, val); };
          const rebuild = coll.ensureAllIndexes.bind(coll);
          coll.ensureAllIndexes = force => { seen.rebuilds++; return rebuild(force); };
          return seen;
        };
        const run = {
          async getMessages() {
            const Store = require(root + "queue/persistence/LokiQueueMetadataStore").default;
            const store = new Store("probe-q-" + process.pid, true);
            await store.init();
            store.checkQueueExist = () => {};
            const coll = store.db.getCollection(store.MESSAGES_COLLECTION);
            const now = Date.now();
            for (let i = 0; i < 50; i++) {
              coll.insert({ accountName: "a", queueName: "q" + (i % 5), messageId: "m" + i, expirationTime: now + 3600000 + i, timeNextVisible: now - 1000 + i, dequeueCount: 0, insertionTime: now, persistency: { id: "x", offset: 0, count: 1 } });
            }
            coll.insert({ accountName: "a", queueName: "q0", messageId: "old", expirationTime: now - 1, timeNextVisible: now - 5000, dequeueCount: 0, insertionTime: now, persistency: { id: "x", offset: 0, count: 1 } });
            const seen = spy(coll);
            const got = await store.getMessages("a", "q1", new Date(now + 30000), "receipt", 4, new Date(now));
            const afterReceive = { ranges: seen.ranges.slice(), rebuilds: seen.rebuilds };
            await store.clearExpiredMessages("a", "q0");
            return {
              receiveRanges: afterReceive.ranges, receiveRebuilds: afterReceive.rebuilds,
              received: got.map(m => m.queueName + "/" + m.messageId + "/" + m.dequeueCount),
              clearRanges: seen.ranges.slice(afterReceive.ranges.length),
              expiredLeft: coll.find({ messageId: "old" }).length, left: coll.count(),
            };
          },
          async tables() {
            const Store = require(root + "table/persistence/LokiTableMetadataStore").default;
            const store = new Store("probe-t-" + process.pid, true);
            await store.init();
            await store.createTable({}, { account: "a", table: "t" });
            const coll = store.db.getCollection("a$t");
            for (const pk of ["p1", "p2", "p3"]) {
              for (const rk of ["", "0001", "0002"]) {
                coll.insert({ PartitionKey: pk, RowKey: rk, properties: { PartitionKey: pk, RowKey: rk, n: pk + rk }, eTag: "e" });
              }
            }
            const seen = spy(coll);
            const keys = async filter => (await store.queryTableEntities({}, "a", "t", { filter }))[0].map(e => e.PartitionKey + "/" + e.RowKey);
            const one = await keys("PartitionKey eq 'p2' and RowKey ge '0001'");
            const oneRanges = seen.ranges.splice(0);
            const either = await keys("PartitionKey eq 'p2' or RowKey eq ''");
            const eitherRanges = seen.ranges.splice(0);
            const point = await store.queryTableEntitiesWithPartitionAndRowKey({}, "t", "a", "p3", "");
            return { one, oneRanges, either, eitherRanges, point: point.properties.n, pointRanges: seen.ranges.splice(0) };
          },
          async extents() {
            const Store = require(root + "common/persistence/LokiExtentMetadataStore").default;
            const store = new Store("probe-e-" + process.pid, true);
            await store.init();
            for (let i = 0; i < 20; i++) {
              await store.updateExtent({ id: "x" + i, locationId: "l", path: "x" + i, size: 1, lastModifiedInMS: Date.now() });
            }
            const coll = store.db.getCollection(store.EXTENTS_COLLECTION);
            const seen = spy(coll);
            for (let i = 0; i < 10; i++) {
              await store.deleteExtent("x" + i);
            }
            await store.deleteExtent("missing");
            return { rebuilds: seen.rebuilds, left: coll.find().map(e => e.id).sort() };
          },
        };
        run[process.argv[2]]().then(r => console.log(JSON.stringify(r))).catch(e => { console.error(e); process.exit(1); });
        """;

    private const string Missing = "the installed Azurite lacks patches/azurite+3.37.0.patch (run 'npm ci', whose postinstall applies it with patch-package)";

    [Fact]
    public async Task GetMessages_RangesOverTheQueueIndex_AndRebuildsNoIndex()
    {
        var result = await RunNodeAsync(IndexProbe, RepoPaths.Root, "getMessages");

        // The 4 oldest visible messages of q1, each received once.
        Assert.Equal(["q1/m1/1", "q1/m6/1", "q1/m11/1", "q1/m16/1"], Strings(result["received"]));
        // A receive first clears the queue's expired messages (the expiration index), then finds its messages (the queue
        // index); stock Azurite ranges over the account index, which every message shares, for both.
        Assert.True(Strings(result["receiveRanges"]).SequenceEqual(["expirationTime", "queueName"]),
            $"getMessages ranged over {string.Join(", ", Strings(result["receiveRanges"]))}: {Missing}.");
        Assert.True(result["receiveRebuilds"]!.GetValue<int>() == 0, $"getMessages rebuilt every index of the messages collection: {Missing}.");
    }

    [Fact]
    public async Task ClearExpiredMessages_RangesOverTheExpirationIndex_AndRemovesTheExpired()
    {
        var result = await RunNodeAsync(IndexProbe, RepoPaths.Root, "getMessages");

        Assert.True(Strings(result["clearRanges"]).FirstOrDefault() == "expirationTime",
            $"clearExpiredMessages' first index lookup was not the expiration time ({string.Join(", ", Strings(result["clearRanges"]))}): {Missing}.");
        Assert.Equal(0, result["expiredLeft"]!.GetValue<int>());
        Assert.Equal(50, result["left"]!.GetValue<int>());
    }

    [Fact]
    public async Task TableQueries_OnOnePartition_RangeOverThePartitionIndex_AndMatchTheFilter()
    {
        var result = await RunNodeAsync(IndexProbe, RepoPaths.Root, "tables");

        Assert.Equal(["p2/0001", "p2/0002"], Strings(result["one"]));
        Assert.True(Strings(result["oneRanges"]).FirstOrDefault() == "PartitionKey",
            $"a query on one partition did not range over the PartitionKey index: {Missing}.");
        // An 'or' may match other partitions: no narrowing, and every match.
        Assert.Equal(["p1/", "p2/", "p2/0001", "p2/0002", "p3/"], Strings(result["either"]));
        Assert.DoesNotContain("PartitionKey", Strings(result["eitherRanges"]));
        Assert.Equal("p3", result["point"]!.GetValue<string>());
        Assert.True(Strings(result["pointRanges"]).FirstOrDefault() == "PartitionKey",
            $"a point read ranged over {string.Join(", ", Strings(result["pointRanges"]))} first, not the partition (row keys are shared by every partition): {Missing}.");
    }

    [Fact]
    public async Task DeleteExtent_RemovesOneExtent_WithoutRebuildingTheIndexes()
    {
        var result = await RunNodeAsync(IndexProbe, RepoPaths.Root, "extents");

        Assert.Equal(Enumerable.Range(10, 10).Select(i => $"x{i}").Order(StringComparer.Ordinal), Strings(result["left"]));
        Assert.True(result["rebuilds"]!.GetValue<int>() == 0,
            $"deleting 10 extents rebuilt the extents' indexes {result["rebuilds"]} times: {Missing}.");
    }

    private static string[] Strings(JsonNode? array) => array!.AsArray().Select(n => n!.GetValue<string>()).ToArray();

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
