namespace ImageJobs.DashScope;

/// <summary>
/// Builds <c>data:{mime};base64,{data}</c> image inputs. The MIME type is sniffed from the magic bytes
/// (JPEG, PNG, BMP, TIFF, WEBP), never taken from a file name.
/// </summary>
public static class DashScopeImageData
{
    /// <summary>image/jpeg.</summary>
    public const string Jpeg = "image/jpeg";

    /// <summary>image/png.</summary>
    public const string Png = "image/png";

    /// <summary>image/bmp.</summary>
    public const string Bmp = "image/bmp";

    /// <summary>image/tiff.</summary>
    public const string Tiff = "image/tiff";

    /// <summary>image/webp.</summary>
    public const string Webp = "image/webp";

    /// <summary>Every MIME type DashScope accepts in a data URI (wan2.5-i2i-preview does not take TIFF).</summary>
    public static IReadOnlyList<string> SupportedMimeTypes { get; } = [Jpeg, Png, Bmp, Tiff, Webp];

    /// <summary>Sniffs the image type from its first bytes.</summary>
    /// <param name="data">The file's bytes (at least the first 12).</param>
    /// <returns>The MIME type, or null when the bytes are not JPEG, PNG, BMP, TIFF or WEBP.</returns>
    public static string? DetectMimeType(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        {
            return Jpeg;
        }

        if (data.Length >= 8 && data[..8].SequenceEqual((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return Png;
        }

        if (data.Length >= 2 && data[0] == (byte)'B' && data[1] == (byte)'M')
        {
            return Bmp;
        }

        if (data.Length >= 4 &&
            ((data[0] == (byte)'I' && data[1] == (byte)'I' && data[2] == 42 && data[3] == 0) ||
             (data[0] == (byte)'M' && data[1] == (byte)'M' && data[2] == 0 && data[3] == 42)))
        {
            return Tiff;
        }

        if (data.Length >= 12 && data[..4].SequenceEqual("RIFF"u8) && data.Slice(8, 4).SequenceEqual("WEBP"u8))
        {
            return Webp;
        }

        return null;
    }

    /// <summary>Encodes image bytes as a data URI with the sniffed MIME type.</summary>
    /// <param name="data">The image file's bytes.</param>
    /// <returns><c>data:image/…;base64,…</c>.</returns>
    /// <exception cref="ArgumentException">The bytes are not a supported image, or larger than 10 MB.</exception>
    public static string ToDataUri(ReadOnlySpan<byte> data)
    {
        var mime = DetectMimeType(data)
            ?? throw new ArgumentException(
                "The data is not a JPEG, PNG, BMP, TIFF or WEBP image (checked by its magic bytes).", nameof(data));
        if (data.Length > DashScopeModels.MaxInputImageBytes)
        {
            throw new ArgumentException(
                $"The image is {data.Length} bytes; DashScope accepts at most {DashScopeModels.MaxInputImageBytes} bytes (10 MB).",
                nameof(data));
        }

        return $"data:{mime};base64,{Convert.ToBase64String(data)}";
    }

    /// <summary>Reads a stream to its end and encodes it as a data URI with the sniffed MIME type.</summary>
    /// <param name="stream">The image stream.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns><c>data:image/…;base64,…</c>.</returns>
    /// <exception cref="ArgumentException">The bytes are not a supported image, or larger than 10 MB.</exception>
    public static async Task<string> ToDataUriAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > DashScopeModels.MaxInputImageBytes)
            {
                throw new ArgumentException(
                    $"The image is larger than {DashScopeModels.MaxInputImageBytes} bytes (10 MB), the most DashScope accepts.",
                    nameof(stream));
            }

            buffer.Write(chunk, 0, read);
        }

        return ToDataUri(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }
}
