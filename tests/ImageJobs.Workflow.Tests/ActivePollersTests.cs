using ImageJobs.Workflow.Provider;


namespace ImageJobs.Workflow.Tests;

public sealed class ActivePollersTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Touch_CountsSameModelJobsSubmittedEarlier()
    {
        var pollers = new ActivePollers(new FakeTimeProvider(T0));
        pollers.Touch("a", "wanx-v1", T0);
        pollers.Touch("b", "wanx-v1", T0.AddSeconds(1));
        pollers.Touch("q", "qwen-image", T0);
        pollers.Touch("d", "wanx-v1", T0.AddSeconds(3));

        var (all, same, ahead) = pollers.Touch("c", "wanx-v1", T0.AddSeconds(2));

        Assert.Equal((5, 4, 2), (all, same, ahead)); // a and b are ahead of c; d is behind, q another model
        Assert.Equal(0, pollers.Touch("a", "wanx-v1", T0).Ahead);
    }

    [Fact]
    public void Touch_EndedAndStaleJobsNoLongerCount()
    {
        var time = new FakeTimeProvider(T0);
        var pollers = new ActivePollers(time);
        pollers.Touch("a", "wanx-v1", T0);
        pollers.Touch("b", "wanx-v1", T0.AddSeconds(1));
        pollers.Remove("a");
        time.SetUtcNow(T0.AddMinutes(1));
        pollers.Touch("c", "wanx-v1", T0.AddSeconds(2));
        time.SetUtcNow(T0.AddMinutes(2.5)); // b last polled 2.5 min ago: stale

        Assert.Equal((2, 2, 1), pollers.Touch("d", "wanx-v1", T0.AddSeconds(3))); // only c is ahead
    }

    [Fact]
    public void Touch_SameSubmitTime_OrderedByJobIdSoExactlyOneIsFirst()
    {
        var pollers = new ActivePollers(new FakeTimeProvider(T0));
        pollers.Touch("x", "wanx-v1", T0);

        Assert.Equal(0, pollers.Touch("w", "wanx-v1", T0).Ahead);
        Assert.Equal(1, pollers.Touch("x", "wanx-v1", T0).Ahead);
    }
}
