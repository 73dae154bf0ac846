using System.Globalization;

namespace ImageJobs.Benchmarks;

/// <summary>CPU time of another process on Linux.</summary>
internal static class ProcessCpu
{
    /// <summary>
    /// User plus system CPU seconds process <paramref name="pid"/> has used since it started (/proc/{pid}/stat fields
    /// 14 and 15, in clock ticks of 100 per second); NaN when it cannot be read.
    /// </summary>
    public static double Seconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }
}
