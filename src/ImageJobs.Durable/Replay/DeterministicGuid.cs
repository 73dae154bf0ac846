using System.Security.Cryptography;
using System.Text;

namespace ImageJobs.Durable.Replay;

/// <summary>Name-based UUIDs (RFC 4122 version 5), computed as Durable's <c>NewGuid</c> does.</summary>
internal static class DeterministicGuid
{
    /// <summary>The namespace Durable uses for <c>NewGuid</c>.</summary>
    public static readonly Guid DurableNamespace = Guid.Parse("9e952958-5e33-4daf-827f-2fa12937b875");

    public static Guid Create(Guid namespaceId, string name)
    {
        var ns = namespaceId.ToByteArray(bigEndian: true);
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var buffer = new byte[ns.Length + nameBytes.Length];
        ns.CopyTo(buffer, 0);
        nameBytes.CopyTo(buffer, ns.Length);
#pragma warning disable CA5350 // SHA-1 is what RFC 4122 version 5 (and Durable) specify; not used for security.
        var hash = SHA1.HashData(buffer);
#pragma warning restore CA5350
        var bytes = hash.AsSpan(0, 16).ToArray();
        bytes[6] = (byte)((bytes[6] & 0x0F) | (5 << 4));
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }
}
