using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace ImageJobs.DashScope.Emulator;

/// <summary>
/// A minimal PNG writer (8-bit RGB, no interlace, filter 0): signature, IHDR, one IDAT (zlib), IEND.
/// Deterministic pictures come from <see cref="Paint"/>: a gradient and a stripe pattern chosen by a hash.
/// Public so tests and benchmarks can make real input images with the same encoder.
/// </summary>
public static class PngEncoder
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Encodes RGB rows (<paramref name="rgb"/> is width*height*3 bytes, top row first).</summary>
    public static byte[] Encode(int width, int height, ReadOnlySpan<byte> rgb)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        var stride = width * 3;
        if (rgb.Length != stride * height)
        {
            throw new ArgumentException("The pixel buffer does not match width*height*3.", nameof(rgb));
        }

        var pixels = rgb.ToArray();
        return Encode(width, height, (y, row) => pixels.AsSpan(y * stride, stride).CopyTo(row));
    }

    /// <summary>Paints a picture that depends only on <paramref name="hash"/> and the size, and encodes it.</summary>
    public static byte[] Paint(int width, int height, ulong hash)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        _ = checked(width * height * 3);
        ReadOnlySpan<byte> a = [(byte)hash, (byte)(hash >> 8), (byte)(hash >> 16)];
        ReadOnlySpan<byte> b = [(byte)(hash >> 24), (byte)(hash >> 32), (byte)(hash >> 40)];
        var period = 16 + (int)((hash >> 48) % 48);
        var diagonal = ((hash >> 56) & 1) == 0;

        // A pixel's channel c is the gradient between a[c] and b[c] at t = (tx + ty) / 2, darkened by 20 or lightened by
        // 20 on a stripe, clamped: both looked up per (t, c), so a row is three table reads per pixel.
        var plain = new byte[256 * 3];
        var stripe = new byte[256 * 3];
        for (var t = 0; t < 256; t++)
        {
            for (var c = 0; c < 3; c++)
            {
                var v = ((a[c] * (255 - t)) + (b[c] * t)) / 255;
                plain[(t * 3) + c] = (byte)Math.Clamp(v - 20, 0, 255);
                stripe[(t * 3) + c] = (byte)Math.Clamp(v + 20, 0, 255);
            }
        }

        var tx = new int[width];
        for (var x = 0; x < width; x++)
        {
            tx[x] = width == 1 ? 0 : x * 255 / (width - 1);
        }

        return Encode(width, height, (y, row) =>
        {
            var ty = height == 1 ? 0 : y * 255 / (height - 1);
            var offset = diagonal ? y : height - y;
            for (var x = 0; x < width; x++)
            {
                var lut = ((x + offset) / period) % 2 == 0 ? plain : stripe;
                var t3 = ((tx[x] + ty) / 2) * 3;
                var p = x * 3;
                row[p] = lut[t3];
                row[p + 1] = lut[t3 + 1];
                row[p + 2] = lut[t3 + 2];
            }
        });
    }

    /// <summary>Fills one row of RGB pixels (<c>width*3</c> bytes) for row <c>y</c>.</summary>
    private delegate void RowWriter(int y, Span<byte> row);

    private static byte[] Encode(int width, int height, RowWriter writeRow)
    {
        var stride = width * 3;
        using var png = new MemoryStream();
        png.Write(Signature);

        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr[4..], height);
        ihdr[8] = 8;  // bit depth
        ihdr[9] = 2;  // colour type: truecolour
        ihdr[10] = 0; // compression
        ihdr[11] = 0; // filter method
        ihdr[12] = 0; // no interlace
        WriteChunk(png, "IHDR", ihdr);

        using (var idat = new MemoryStream())
        {
            using (var zlib = new ZLibStream(idat, CompressionLevel.Fastest, leaveOpen: true))
            {
                var row = new byte[stride + 1];
                for (var y = 0; y < height; y++)
                {
                    row[0] = 0; // filter type None
                    writeRow(y, row.AsSpan(1));
                    zlib.Write(row);
                }
            }

            WriteChunk(png, "IDAT", idat.GetBuffer().AsSpan(0, (int)idat.Length));
        }

        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void WriteChunk(Stream png, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
        Encoding.ASCII.GetBytes(type, header[4..]);
        png.Write(header);
        png.Write(data);

        var crc = Crc32.Append(Crc32.Initial, header[4..]);
        crc = Crc32.Append(crc, data);
        Span<byte> trailer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(trailer, Crc32.Finish(crc));
        png.Write(trailer);
    }
}

/// <summary>CRC-32 (IEEE 802.3, reflected 0xEDB88320), as PNG chunks need; System.IO.Hashing is not available here.</summary>
internal static class Crc32
{
    /// <summary>The running value to start from.</summary>
    public const uint Initial = 0xFFFFFFFFu;

    private static readonly uint[] Table = BuildTable();

    /// <summary>Feeds bytes into a running CRC.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (var b in data)
        {
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc;
    }

    /// <summary>Turns a running CRC into the final value.</summary>
    public static uint Finish(uint crc) => crc ^ 0xFFFFFFFFu;

    /// <summary>The CRC-32 of a whole buffer.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Append(Initial, data));

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
