using System.Security.Cryptography;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using ImageJobs.Workflow.Storage;

namespace ImageJobs.Local.Tests.Infrastructure;

/// <summary>What the crash and scale-out tests check about the result images their jobs wrote.</summary>
public static class ResultBlobs
{
    /// <summary>
    /// Checks every <c>.png</c> blob under <paramref name="prefix"/>: complete (its content hashes to the <c>sha256</c>
    /// metadata the one write set, and has that size) and with no blocks staged beside it, so no second copy started
    /// writing. A second write cannot land: every write is create-only (<c>If-None-Match: *</c>), which
    /// ResultImageStoreTests shows on Azurite. Returns how many images there are.
    /// </summary>
    public static async Task<int> AssertEachCompleteAndWrittenOnceAsync(BlobContainerClient results, string prefix)
    {
        var images = 0;
        await foreach (var blob in results.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix, Traits = BlobTraits.Metadata }))
        {
            if (!blob.Name.EndsWith(".png", StringComparison.Ordinal))
            {
                continue;
            }

            images++;
            var content = (await results.GetBlobClient(blob.Name).DownloadContentAsync()).Value.Content.ToArray();
            Assert.True(blob.Metadata.TryGetValue(BlobMetadata.Sha256, out var sha), $"{blob.Name}: no sha256 metadata.");
            Assert.Equal(sha, Convert.ToHexStringLower(SHA256.HashData(content)));
            Assert.Equal(content.Length, blob.Properties.ContentLength);
            var blocks = (await results.GetBlockBlobClient(blob.Name).GetBlockListAsync(BlockListTypes.Uncommitted)).Value;
            Assert.True(!blocks.UncommittedBlocks.Any(), $"{blob.Name}: {blocks.UncommittedBlocks.Count()} uncommitted blocks.");
        }

        return images;
    }
}
