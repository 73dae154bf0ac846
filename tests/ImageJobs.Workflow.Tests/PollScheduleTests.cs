using ImageJobs.Workflow.Provider;


namespace ImageJobs.Workflow.Tests;

public sealed class PollScheduleTests
{
    private static readonly DurationWindow Wanx = new(TimeSpan.FromSeconds(26), TimeSpan.FromSeconds(31));
    private static readonly DurationWindow Edit = new(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15));

    [Fact]
    public void NextDelay_JustSubmitted_FirstCheckAtMinPlusLagLessTheRuntimeReserve()
    {
        var delay = PollSchedule.NextDelay(running: true, TimeSpan.Zero, Wanx, activeJobs: 1);

        Assert.Equal(TimeSpan.FromSeconds(26 + 2.6 - 1), delay);
    }

    [Fact]
    public void NextDelay_PastMin_TightensToTenPercentOfElapsed_LessTheRuntimeReserve()
    {
        Assert.Equal(TimeSpan.FromSeconds(3 - 1), PollSchedule.NextDelay(true, TimeSpan.FromSeconds(30), Wanx, 1));
        Assert.Equal(TimeSpan.FromSeconds(1.5 - 1), PollSchedule.NextDelay(true, TimeSpan.FromSeconds(6), new(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15)), 1));
    }

    [Fact]
    public void Planned_ReserveAsLargeAsTheLag_KeepsAQuarterOfIt()
    {
        var options = new PollScheduleOptions { MinLag = TimeSpan.FromSeconds(1), RuntimeReserve = TimeSpan.FromSeconds(1) };

        Assert.Equal(TimeSpan.FromSeconds(0.25), PollSchedule.Planned(TimeSpan.FromSeconds(2), options));
        Assert.Equal(TimeSpan.FromSeconds(1.5), PollSchedule.Planned(TimeSpan.FromSeconds(2), new PollScheduleOptions { RuntimeReserve = TimeSpan.Zero }));
    }

    [Fact]
    public void NextDelay_Pending_WaitsTheMinimumRunningTime()
    {
        Assert.Equal(TimeSpan.FromSeconds(26), PollSchedule.NextDelay(running: false, TimeSpan.FromSeconds(100), Wanx, 1));
    }

    [Fact]
    public void NextDelay_Overdue_CappedAtMaxInterval()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), PollSchedule.NextDelay(true, TimeSpan.FromHours(2), Wanx, 1));
    }

    [Fact]
    public void NextDelay_ManyPendingJobs_StayWithinQueryBudget()
    {
        // 400 jobs at 16 queries/s (80 % of 20) means each PENDING one may poll every 25 s at most.
        var delay = PollSchedule.NextDelay(running: false, TimeSpan.FromSeconds(30), Edit, activeJobs: 400);

        Assert.Equal(TimeSpan.FromSeconds(25), delay);
    }

    [Fact]
    public void ForRateWindow_ScaledProvider_ScalesBudgetLagsAndLongestInterval()
    {
        // An emulator at time scale 0.01 with scaled rate windows: 2 000 queries per real second, lags 100× shorter.
        var scaled = new PollScheduleOptions().ForRateWindow(0.01);
        var edit = new DurationWindow(TimeSpan.FromSeconds(0.05), TimeSpan.FromSeconds(0.15));

        Assert.Equal(TimeSpan.FromSeconds(0.25), PollSchedule.NextDelay(running: false, TimeSpan.Zero, edit, activeJobs: 400, options: scaled));
        Assert.Equal(TimeSpan.FromSeconds(0.01), scaled.RuntimeReserve);
        Assert.Equal(TimeSpan.FromSeconds(0.3), scaled.MaxInterval);
        Assert.Equal(TimeSpan.FromSeconds(0.3), PollSchedule.NextDelay(running: true, TimeSpan.FromSeconds(60), edit, 1, options: scaled));
        Assert.Equal(TimeSpan.FromMilliseconds(5), PollSchedule.NextDelay(running: true, TimeSpan.FromSeconds(0.06), edit, 1, options: scaled));
        Assert.Equal(TimeSpan.FromSeconds(1.5 - 1), PollSchedule.NextDelay(running: true, TimeSpan.FromSeconds(0.06), edit, 1));
        Assert.Same(scaled, scaled.ForRateWindow(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => scaled.ForRateWindow(0));
    }

    [Fact]
    public void NextDelay_RunningTask_NotSlowedByOtherJobs()
    {
        Assert.Equal(TimeSpan.FromSeconds(2), PollSchedule.NextDelay(running: true, TimeSpan.FromSeconds(30), Wanx, activeJobs: 400));
    }

    [Fact]
    public void NextDelay_PendingBehindAQueue_WaitsHalfTheExpectedQueueTime()
    {
        Assert.Equal(TimeSpan.FromSeconds(20), PollSchedule.NextDelay(running: false, TimeSpan.Zero, Edit, activeJobs: 1, queueWait: TimeSpan.FromSeconds(40)));
        Assert.Equal(TimeSpan.FromSeconds(5), PollSchedule.NextDelay(running: false, TimeSpan.Zero, Edit, activeJobs: 1, queueWait: TimeSpan.FromSeconds(4)));
        Assert.Equal(TimeSpan.FromSeconds(30), PollSchedule.NextDelay(running: false, TimeSpan.Zero, Edit, activeJobs: 1, queueWait: TimeSpan.FromMinutes(4)));
    }

    [Fact]
    public void NextDelay_AnyFinishTime_DetectedWithinAllowedLag_LeavingTheReserveToTheRuntime()
    {
        // Walk the schedule for finish times across the window and beyond: on exact timers the lag always leaves the
        // runtime reserve (1 s) of the allowed lag free, or three quarters of it when the lag is shorter than 4/3 s.
        for (var finish = 26.0; finish < 200; finish += 0.37)
        {
            var t = 0.0;
            while (t < finish)
            {
                t += PollSchedule.NextDelay(true, TimeSpan.FromSeconds(t), Wanx, 1).TotalSeconds;
            }

            var allowed = Math.Max(1.5, 0.1 * finish);
            Assert.True(t - finish <= Math.Min(30, Math.Max(allowed - 1, allowed / 4)) + 1e-9, $"finish {finish:F2}s detected at {t:F2}s");
        }
    }

    [Fact]
    public void Learn_EnoughSamples_UsesPercentiles()
    {
        var samples = Enumerable.Range(0, 21).Select(i => TimeSpan.FromSeconds(10 + i)).ToArray();

        var window = DurationWindow.Learn(samples, Wanx);

        Assert.Equal(TimeSpan.FromSeconds(11), window.Min);
        Assert.Equal(TimeSpan.FromSeconds(29), window.Max);
    }

    [Fact]
    public void Learn_FewSamples_KeepsDocumented()
    {
        Assert.Equal(Wanx, DurationWindow.Learn([TimeSpan.FromSeconds(1)], Wanx));
    }
}
