using System.Globalization;
using ImageJobs.DashScope;
using ImageJobs.Workflow.Provider;

namespace ImageJobs.Benchmarks;

/// <summary>
/// <c>polls-sim</c>: ImageJobs' poll schedule against the official SDKs' <c>wait()</c> (sleeps 1,1,2,2,2,4,4,4 s, then 5 s),
/// both run on the same task durations drawn from each model's documented range. Prints polls per job (median/p95)
/// and detection lag (p50/p95) per model, and whether each job's lag stayed within max(1.5 s, 10 % of its duration).
/// "cold" plans with the documented window, "learned" with the window learned from 50 earlier tasks of the model.
/// </summary>
internal static class PollsSimulation
{
    private static readonly (string Model, Func<Random, double> Draw)[] s_models =
    [
        (DashScopeModels.WanxV1, r => Uniform(r, 26, 31)),
        (DashScopeModels.WanxImageEdit, r => Uniform(r, 5, 15)),
        (DashScopeModels.Wan25ImageToImagePreview, r => Uniform(r, 30, 120)),
        (DashScopeModels.QwenImagePlus, r => Uniform(r, 14, 16) + Uniform(r, 3, 4)), // ≈15 s, +3–4 s with prompt_extend (default)
    ];

    public static int Run(BenchmarkArgs args)
    {
        var jobs = args.GetInt("jobs", 1000);
        var seed = args.GetInt("seed", 1);
        var report = new Report("polls-sim");
        var all = new Dictionary<string, List<(int Polls, double Lag, bool WithinBudget)>>();
        Console.WriteLine($"{"model",-22} {"schedule",-8} {"polls p50",9} {"polls p95",9} {"lag p50 s",9} {"lag p95 s",9} {"in budget",9}");
        foreach (var (model, draw) in s_models)
        {
            var random = new Random(seed);
            var durations = Enumerable.Range(0, jobs).Select(_ => draw(random)).ToArray();
            var learned = DurationWindow.Learn([.. Enumerable.Range(0, 50).Select(_ => TimeSpan.FromSeconds(draw(random)))], default);
            var profile = DashScopeModels.GetProfile(model);
            var documented = new DurationWindow(profile.TypicalLatencyMin, profile.TypicalLatencyMax);
            foreach (var (name, schedule) in new (string, Func<double, (int, double)>)[]
            {
                ("sdk", d => Simulate(d, SdkNext)),
                ("cold", d => Simulate(d, (t, _) => PollSchedule.NextDelay(true, TimeSpan.FromSeconds(t), documented, 1).TotalSeconds, firstAt: null)),
                ("learned", d => Simulate(d, (t, _) => PollSchedule.NextDelay(true, TimeSpan.FromSeconds(t), learned, 1).TotalSeconds, firstAt: null)),
            })
            {
                var runs = durations.Select(d =>
                {
                    var (polls, lag) = schedule(d);
                    return (polls, lag, lag <= Math.Max(1.5, 0.1 * d) + 1e-9);
                }).ToList();
                var key = name;
                if (!all.TryGetValue(key, out var list))
                {
                    all[key] = list = [];
                }

                list.AddRange(runs);
                Print(report, model, name, runs);
            }
        }

        foreach (var (name, runs) in all)
        {
            Print(report, "all", name, runs);
        }

        report.Add("target", "median polls <= 2; lag p95 <= max(1.5 s, 10 % of duration)");
        report.Print();
        return 0;
    }

    /// <summary>Polls at submit (t = 0 for the SDK) and after each delay until the task is seen done.</summary>
    internal static (int Polls, double Lag) Simulate(double duration, Func<double, int, double> next, double? firstAt = 0)
    {
        var t = firstAt ?? next(0, 0);
        var polls = 1;
        while (t < duration)
        {
            t += next(t, polls);
            polls++;
        }

        return (polls, t - duration);
    }

    /// <summary>The SDKs' wait(): first query at once, then sleep 1,1,2,2,2,4,4,4 and 5 s forever.</summary>
    internal static double SdkNext(double t, int polls) => polls switch
    {
        <= 2 => 1,
        <= 5 => 2,
        <= 8 => 4,
        _ => 5,
    };

    private static void Print(Report report, string model, string schedule, List<(int Polls, double Lag, bool WithinBudget)> runs)
    {
        var polls = runs.Select(r => (double)r.Polls).Order().ToList();
        var lags = runs.Select(r => r.Lag).Order().ToList();
        var within = runs.Count(r => r.WithinBudget) * 100.0 / runs.Count;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{model,-22} {schedule,-8} {Report.Percentile(polls, 50),9:0} {Report.Percentile(polls, 95),9:0} {Report.Percentile(lags, 50),9:0.00} {Report.Percentile(lags, 95),9:0.00} {within,8:0.0}%"));
        var prefix = $"{model}.{schedule}";
        report.Add($"{prefix}.polls_p50", Report.Percentile(polls, 50));
        report.Add($"{prefix}.polls_p95", Report.Percentile(polls, 95));
        report.Add($"{prefix}.lag_p50_s", Report.Percentile(lags, 50), "s");
        report.Add($"{prefix}.lag_p95_s", Report.Percentile(lags, 95), "s");
        report.Add($"{prefix}.lag_within_budget_pct", within, "%");
    }

    private static double Uniform(Random random, double min, double max) => min + ((max - min) * random.NextDouble());
}
