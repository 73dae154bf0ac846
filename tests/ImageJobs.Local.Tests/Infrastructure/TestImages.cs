using System.Buffers.Binary;
using ImageJobs.DashScope.Emulator;

namespace ImageJobs.Local.Tests.Infrastructure;

/// <summary>Small real PNGs for image inputs, and a reader for a PNG's size.</summary>
public static class TestImages
{
    /// <summary>A solid RGB PNG of the given size.</summary>
    public static byte[] Png(int width, int height)
    {
        var rgb = new byte[width * height * 3];
        for (var i = 0; i < rgb.Length; i += 3)
        {
            rgb[i] = 200;
            rgb[i + 1] = 120;
            rgb[i + 2] = 40;
        }

        return PngEncoder.Encode(width, height, rgb);
    }

    /// <summary>The width and height in a PNG's IHDR.</summary>
    public static (int Width, int Height) PngSize(byte[] png)
    {
        Assert.True(png.Length > 24 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', "Not a PNG.");
        return (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }
}
