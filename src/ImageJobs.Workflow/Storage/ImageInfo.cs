using System.Buffers.Binary;

namespace ImageJobs.Workflow.Storage;

/// <summary>Reads the format and pixel size of an image from its first bytes (PNG, JPEG, GIF, BMP, WebP).</summary>
public static class ImageInfo
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0d, 0x0a, 0x1a, 0x0a];

    /// <summary>The file extension (with its dot) for a mime type <see cref="TryRead"/> returns; <c>.bin</c> for any other.</summary>
    public static string ExtensionFor(string mimeType) => mimeType switch
    {
        "image/png" => ".png",
        "image/jpeg" => ".jpg",
        "image/gif" => ".gif",
        "image/bmp" => ".bmp",
        "image/webp" => ".webp",
        _ => ".bin",
    };

    /// <summary>Reads the mime type and dimensions, when the header is recognised.</summary>
    public static bool TryRead(ReadOnlySpan<byte> header, out string mimeType, out int width, out int height)
    {
        mimeType = "application/octet-stream";
        width = height = 0;
        if (header.Length >= 24 && header[..8].SequenceEqual(PngSignature) && header.Slice(12, 4).SequenceEqual("IHDR"u8))
        {
            mimeType = "image/png";
            width = BinaryPrimitives.ReadInt32BigEndian(header[16..]);
            height = BinaryPrimitives.ReadInt32BigEndian(header[20..]);
            return true;
        }

        if (header.Length >= 10 && (header[..6].SequenceEqual("GIF87a"u8) || header[..6].SequenceEqual("GIF89a"u8)))
        {
            mimeType = "image/gif";
            width = BinaryPrimitives.ReadUInt16LittleEndian(header[6..]);
            height = BinaryPrimitives.ReadUInt16LittleEndian(header[8..]);
            return true;
        }

        if (header.Length >= 26 && header[0] == (byte)'B' && header[1] == (byte)'M')
        {
            mimeType = "image/bmp";
            width = BinaryPrimitives.ReadInt32LittleEndian(header[18..]);
            height = Math.Abs(BinaryPrimitives.ReadInt32LittleEndian(header[22..]));
            return true;
        }

        if (header.Length >= 30 && header[..4].SequenceEqual("RIFF"u8) && header.Slice(8, 4).SequenceEqual("WEBP"u8))
        {
            mimeType = "image/webp";
            var chunk = header.Slice(12, 4);
            if (chunk.SequenceEqual("VP8X"u8))
            {
                width = 1 + (header[24] | header[25] << 8 | header[26] << 16);
                height = 1 + (header[27] | header[28] << 8 | header[29] << 16);
            }
            else if (chunk.SequenceEqual("VP8 "u8))
            {
                width = BinaryPrimitives.ReadUInt16LittleEndian(header[26..]) & 0x3fff;
                height = BinaryPrimitives.ReadUInt16LittleEndian(header[28..]) & 0x3fff;
            }
            else if (chunk.SequenceEqual("VP8L"u8))
            {
                var bits = BinaryPrimitives.ReadUInt32LittleEndian(header[21..]);
                width = (int)(bits & 0x3fff) + 1;
                height = (int)((bits >> 14) & 0x3fff) + 1;
            }

            return true;
        }

        if (header.Length >= 3 && header[0] == 0xff && header[1] == 0xd8 && header[2] == 0xff)
        {
            mimeType = "image/jpeg";
            return TryReadJpegSize(header, out width, out height) || true;
        }

        return false;
    }

    private static bool TryReadJpegSize(ReadOnlySpan<byte> data, out int width, out int height)
    {
        width = height = 0;
        var i = 2;
        while (i + 9 < data.Length)
        {
            if (data[i] != 0xff)
            {
                return false;
            }

            var marker = data[i + 1];
            var length = BinaryPrimitives.ReadUInt16BigEndian(data[(i + 2)..]);
            if (marker is >= 0xc0 and <= 0xcf and not 0xc4 and not 0xc8 and not 0xcc)
            {
                height = BinaryPrimitives.ReadUInt16BigEndian(data[(i + 5)..]);
                width = BinaryPrimitives.ReadUInt16BigEndian(data[(i + 7)..]);
                return true;
            }

            i += 2 + length;
        }

        return false;
    }
}
