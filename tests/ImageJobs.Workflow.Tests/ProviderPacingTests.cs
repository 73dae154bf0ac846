using ImageJobs.DashScope;
using ImageJobs.Workflow.Pipeline;

namespace ImageJobs.Workflow.Tests;

public sealed class ProviderPacingTests
{
    private sealed class ManualTime(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ReserveSubmit_ManyAtOnce_SpacedUnderTheModelsRate()
    {
        using var pacing = new ProviderPacing(new ManualTime(T0));

        var slots = Enumerable.Range(0, 5).Select(_ => pacing.ReserveSubmit(DashScopeModels.WanxV1, null)).ToArray();

        // wanx-v1 allows 2 submits/s; at 80 % that is one every 0.625 s.
        Assert.Equal(T0, slots[0]);
        for (var i = 1; i < slots.Length; i++)
        {
            Assert.Equal(TimeSpan.FromSeconds(0.625), slots[i] - slots[i - 1]);
        }

        // Any one-second window holds at most 2 of them.
        Assert.All(slots, s => Assert.True(slots.Count(o => o >= s && o < s.AddSeconds(1)) <= 2));
    }

    [Fact]
    public void ReserveSubmit_ScaledRateWindow_SpacesSlotsByTheScaledInterval()
    {
        using var pacing = new ProviderPacing(new ManualTime(T0), new ImageJobsOptions { RateWindowScale = 0.01 });

        var first = pacing.ReserveSubmit(DashScopeModels.WanxV1, null);
        var second = pacing.ReserveSubmit(DashScopeModels.WanxV1, null);

        Assert.Equal(0.00625, (second - first).TotalSeconds, precision: 6);
    }

    [Theory]
    [InlineData(0.01)]   // query interval 0.625 ms: below a timer tick, so tokens come in batches
    [InlineData(0.0001)]
    public async Task QueryAsync_ScaledBelowATimerTick_KeepsGranting(double scale)
    {
        // A replenishment period under 1 ms once made the timer fire only once: the second query waited forever.
        using var pacing = new ProviderPacing(TimeProvider.System, new ImageJobsOptions { RateWindowScale = scale });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        for (var i = 0; i < 40; i++)
        {
            using var lease = await pacing.QueryAsync(timeout.Token);
            Assert.True(lease.IsAcquired);
        }
    }

    [Fact]
    public void ReserveSubmit_ModelsArePacedIndependently()
    {
        using var pacing = new ProviderPacing(new ManualTime(T0));
        pacing.ReserveSubmit(DashScopeModels.WanxV1, null);

        Assert.Equal(T0, pacing.ReserveSubmit(DashScopeModels.QwenImagePlus, null));
    }

    [Fact]
    public void ReserveSubmit_DueReservation_IsHonouredWithoutTakingAnotherSlot()
    {
        var time = new ManualTime(T0);
        using var pacing = new ProviderPacing(time);
        pacing.ReserveSubmit(DashScopeModels.WanxV1, null);
        var mine = pacing.ReserveSubmit(DashScopeModels.WanxV1, null);

        time.Now = mine;
        Assert.Equal(mine, pacing.ReserveSubmit(DashScopeModels.WanxV1, mine));
        Assert.Equal(mine.AddSeconds(0.625), pacing.ReserveSubmit(DashScopeModels.WanxV1, null));
    }

    [Fact]
    public void ReserveSubmit_LateReservation_IsStillHonoured()
    {
        var time = new ManualTime(T0);
        using var pacing = new ProviderPacing(time);
        var mine = pacing.ReserveSubmit(DashScopeModels.WanxV1, null);

        time.Now = mine.AddSeconds(5);

        Assert.Equal(mine, pacing.ReserveSubmit(DashScopeModels.WanxV1, mine));
    }
}
