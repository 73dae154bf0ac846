using System.Globalization;
using System.Runtime.CompilerServices;
using ImageJobs.Durable.Model;

namespace ImageJobs.Durable.Storage;

/// <summary>
/// An in-process store with the same contract as the blob store (copies in, copies out, ETags). For fast tests and
/// benchmarks; share one instance between engines to simulate a restart on the same task hub.
/// </summary>
public sealed class InMemoryDurableStore : IDurableStore
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _version;

    private sealed record Entry(byte[] Content, string ETag, InstanceIndex Index);

    /// <summary>How many documents the store holds.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task<StoredDocument?> ReadAsync(string instanceId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_entries.TryGetValue(instanceId, out var e) ? new StoredDocument(BinaryData.FromBytes(e.Content), e.ETag) : null);
        }
    }

    /// <inheritdoc />
    public Task<string?> TryCreateAsync(InstanceIndex index, BinaryData content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(content);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (_entries.ContainsKey(index.InstanceId))
            {
                return Task.FromResult<string?>(null);
            }

            var etag = NextETag();
            _entries[index.InstanceId] = new Entry(content.ToArray(), etag, index);
            return Task.FromResult<string?>(etag);
        }
    }

    /// <inheritdoc />
    public Task<string?> TryUpdateAsync(InstanceIndex index, BinaryData content, string etag, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(content);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_entries.TryGetValue(index.InstanceId, out var e) || e.ETag != etag)
            {
                return Task.FromResult<string?>(null);
            }

            var next = NextETag();
            _entries[index.InstanceId] = new Entry(content.ToArray(), next, index);
            return Task.FromResult<string?>(next);
        }
    }

    /// <inheritdoc />
    public Task<bool> TryDeleteAsync(string instanceId, string etag, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_entries.TryGetValue(instanceId, out var e) && e.ETag == etag && _entries.Remove(instanceId));
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<InstanceIndex> ListAsync(
        string? instanceIdPrefix, string? startAfter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        List<InstanceIndex> snapshot;
        lock (_gate)
        {
            snapshot = [.. _entries
                .Where(e => (instanceIdPrefix is null || e.Key.StartsWith(instanceIdPrefix, StringComparison.Ordinal))
                    && (startAfter is null || string.CompareOrdinal(e.Key, startAfter) > 0))
                .Select(e => e.Value.Index)];
        }

        foreach (var index in snapshot)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return index;
        }

        await Task.CompletedTask;
    }

    private string NextETag() => (++_version).ToString(CultureInfo.InvariantCulture);
}
