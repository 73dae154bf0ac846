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
