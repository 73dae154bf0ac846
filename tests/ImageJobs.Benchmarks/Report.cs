using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace ImageJobs.Benchmarks;

/// <summary>Collects named results, prints them as a table and as one JSON line.</summary>
internal sealed class Report(string benchmark)
{
    private readonly List<(string Name, object Value, string Unit, string? Target)> _rows = [];

    public void Add(string name, object value, string unit = "", string? target = null) => _rows.Add((name, value, unit, target));

    public void Print()
    {
        // Other work on the machine moves every latency here: say how busy it was (1-minute load average, this run included).
        if (File.Exists("/proc/loadavg"))
        {
            Add("machine.loadavg_1m", double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture), "", $"{Environment.ProcessorCount} cores");
        }

        var width = _rows.Max(r => r.Name.Length);
        Console.WriteLine();
        Console.WriteLine($"{"metric".PadRight(width)}  {"value",14}  {"unit",-6}  target");
        Console.WriteLine(new string('-', width + 36));
        foreach (var (name, value, unit, target) in _rows)
        {
            Console.WriteLine($"{name.PadRight(width)}  {Format(value),14}  {unit,-6}  {target}");
        }

        // A value not measured (NaN: e.g. no timer fired before the deadline) is null in JSON, which has no NaN.
        var json = new Dictionary<string, object?> { ["benchmark"] = benchmark };
        foreach (var (name, value, _, _) in _rows)
        {
            json[name] = value is double d ? (double.IsFinite(d) ? Math.Round(d, 2) : null) : value;
        }

        Console.WriteLine();
        Console.WriteLine(JsonSerializer.Serialize(json));
    }

    private static string Format(object value) => value switch
    {
        double d => d.ToString("0.##", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    public static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];

    public static double PeakRssMegabytes()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.PeakWorkingSet64 / (1024.0 * 1024.0);
    }
}
