using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using ImageJobs.DashScope;
using ImageJobs.Testing;
using ImageJobs.Workflow.Hosting;
using ImageJobs.Workflow.Provider;
using ImageJobs.Workflow.Storage;

namespace ImageJobs.Workflow.Tests;

/// <summary>
/// The placement rule on its own, then the shared lanes on Azurite: two <see cref="ProviderPacing"/> instances on one
/// account stand for two processes.
/// </summary>
public sealed class ProviderPacingTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 8, 0, 0, TimeSpan.Zero);

    // wanx-v1 allows 2 submits/s; at 80 % that is one every 0.625 s.
    private static readonly TimeSpan WanxInterval = TimeSpan.FromSeconds(0.625);
    private static readonly TimeSpan Tolerance = TimeSpan.FromSeconds(0.1);

    [Fact]
    public void Place_ManyAtOnce_SpacedOneIntervalApart_AndAnyWindowHoldsAtMostTheLimit()
    {
        var lane = new List<PacingSlot>();

        var slots = Enumerable.Range(0, 5).Select(i => ProviderPacing.Place(lane, $"job-{i}", T0, WanxInterval, Tolerance).At).ToArray();

        Assert.Equal(T0, slots[0]);
        Assert.All(slots.Zip(slots.Skip(1)), pair => Assert.Equal(WanxInterval, pair.Second - pair.First));
        Assert.All(slots, s => Assert.True(slots.Count(o => o >= s && o < s.AddSeconds(1)) <= 2));
        Assert.Equal(slots, lane.Select(s => s.At));
    }

    [Fact]
    public void Place_FillsTheFirstGapWideEnough()
    {
        var lane = new List<PacingSlot> { new(T0.AddSeconds(0.3), "a"), new(T0.AddSeconds(1.0), "b"), new(T0.AddSeconds(3.0), "c") };

        var (at, changed) = ProviderPacing.Place(lane, "d", T0, WanxInterval, Tolerance);

        // T0 is too close to a; a + 0.625 = 0.925 too close to b; b + 0.625 = 1.625 is 1.375 before c.
        Assert.True(changed);
        Assert.Equal(T0.AddSeconds(1.625), at);
        Assert.Equal(["a", "b", "d", "c"], lane.Select(s => s.Owner));
    }

    [Fact]
    public void Place_AnOwnersSlot_IsKeptWhileUsable_AndReplacedOnceTooLate()
    {
        var lane = new List<PacingSlot>();
        var mine = ProviderPacing.Place(lane, "me", T0, WanxInterval, Tolerance).At;
        var theirs = ProviderPacing.Place(lane, "them", T0, WanxInterval, Tolerance).At;

        // Early, on time, or a little late: the same slot, and the lane unchanged.
        Assert.Equal((mine, false), ProviderPacing.Place(lane, "me", T0.AddSeconds(-2), WanxInterval, Tolerance));
        Assert.Equal((mine, false), ProviderPacing.Place(lane, "me", mine + Tolerance, WanxInterval, Tolerance));

        // Later than the tolerance: a new slot one interval clear of the others, and the old one gone.
        var late = mine + TimeSpan.FromSeconds(0.2);
        var (again, changed) = ProviderPacing.Place(lane, "me", late, WanxInterval, Tolerance);
        Assert.True(changed);
        Assert.Equal(theirs + WanxInterval, again);
        Assert.Equal([("them", theirs), ("me", again)], lane.Select(s => (s.Owner, s.At)));
    }

    [Fact]
    public void Place_DropsSlotsThatCanNoLongerConstrainACall()
    {
        var lane = new List<PacingSlot> { new(T0, "old"), new(T0.AddSeconds(5), "kept") };

        ProviderPacing.Place(lane, null, T0.AddSeconds(4), WanxInterval, Tolerance);

        Assert.Equal([null, "kept"], lane.Select(s => s.Owner));
    }

    [Fact]
    public void Interval_ScalesWithTheRateWindow_KeepingAMinimumMargin()
    {
        var pacing = new ProviderPacing(new JobStateStore(new BlobServiceClient(azurite.ConnectionString), new ImageJobsOptions()), TimeProvider.System,
            new ImageJobsOptions { RateWindowScale = 0.01 });

        // A 10 ms window still keeps 50 ms to spare: 2 calls per (10 + 50) ms, a late send up to 20 ms.
        Assert.Equal(0.03, pacing.Interval(2).TotalSeconds, precision: 9);
        Assert.Equal(0.02, pacing.LateTolerance.TotalSeconds, precision: 9);

        var unscaled = new ProviderPacing(new JobStateStore(new BlobServiceClient(azurite.ConnectionString), new ImageJobsOptions()), TimeProvider.System,
            new ImageJobsOptions());
        Assert.Equal(0.625, unscaled.Interval(2).TotalSeconds, precision: 9);
        Assert.Equal(0.0625, unscaled.Interval(20).TotalSeconds, precision: 9);
        Assert.Equal(0.1, unscaled.LateTolerance.TotalSeconds, precision: 9);
    }

    [Fact]
    public async Task TwoInstances_ReservingAtOnce_GetSlotsOneIntervalApart_AndEachJobHoldsOne()
    {
        var options = Options();
        var (first, _) = Pacing(options);
        var (second, _) = Pacing(options);

        // 2 × 12 jobs at once, half through each instance, while the other writes the same lane.
        var jobs = Enumerable.Range(0, 24).Select(i => $"job-{i:D2}").ToList();
        var slots = await Task.WhenAll(jobs.Select((job, i) =>
            (i % 2 == 0 ? first : second).ReserveSubmitAsync(DashScopeModels.WanxV1, job, null, CancellationToken.None)));

        var ordered = slots.Order().ToList();
        Assert.All(ordered.Zip(ordered.Skip(1)), pair => Assert.True(pair.Second - pair.First >= WanxInterval, $"{pair.First:O} and {pair.Second:O}"));

        // The lane in storage holds each job once, at the slot it was given.
        var (lane, _) = await new JobStateStore(new BlobServiceClient(azurite.ConnectionString), options)
            .GetPacingAsync("submit-" + DashScopeModels.WanxV1, CancellationToken.None);
        Assert.Equal(jobs.Zip(slots).ToDictionary(p => p.First, p => p.Second), lane.ToDictionary(s => s.Owner!, s => s.At));

        // Asking again, through the other instance, gives a job its slot back instead of a second one.
        var again = await second.ReserveSubmitAsync(DashScopeModels.WanxV1, jobs[^2], null, CancellationToken.None);
        Assert.Equal(slots[^2], again);
    }

    [Fact]
    public async Task UncontendedReservation_IsOneStorageRoundTrip_AndAHeldSlotNone()
    {
        var options = Options();
        var (pacing, requests) = Pacing(options);
        await pacing.ReserveSubmitAsync(DashScopeModels.QwenImage, "warm-up", null, CancellationToken.None);

        var before = requests.Count;
        var slot = await pacing.ReserveSubmitAsync(DashScopeModels.QwenImage, "job", null, CancellationToken.None);
        Assert.Equal(1, requests.Count - before);

        before = requests.Count;
        Assert.Equal(slot, await pacing.ReserveSubmitAsync(DashScopeModels.QwenImage, "job", slot, CancellationToken.None));
        Assert.Equal(0, requests.Count - before);
    }

    [Fact]
    public async Task AfterAnotherInstanceWrote_TheLaneIsReadAgain_AndNoSlotIsLost()
    {
        var options = Options();
        var (first, requests) = Pacing(options);
        var (second, _) = Pacing(options);
        var a = await first.ReserveSubmitAsync(DashScopeModels.WanxV1, "a", null, CancellationToken.None);
        var b = await second.ReserveSubmitAsync(DashScopeModels.WanxV1, "b", null, CancellationToken.None);

        var before = requests.Count;
        var c = await first.ReserveSubmitAsync(DashScopeModels.WanxV1, "c", null, CancellationToken.None);

        // Refused write, read, write.
        Assert.Equal(3, requests.Count - before);
        var ordered = new[] { a, b, c }.Order().ToList();
        Assert.True(ordered[1] - ordered[0] >= WanxInterval && ordered[2] - ordered[1] >= WanxInterval, string.Join(", ", ordered));
    }

    [Fact]
    public async Task QuerySlots_TwoInstances_StayUnderTheAccountsRate()
    {
        var options = Options();
        var (first, _) = Pacing(options);
        var (second, _) = Pacing(options);

        var slots = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => (i % 2 == 0 ? first : second).WaitForQuerySlotAsync(CancellationToken.None)));

        // 20 queries/s at 80 %: one every 62.5 ms, so any second holds at most 16.
        var ordered = slots.Order().ToList();
        Assert.All(ordered.Zip(ordered.Skip(1)), pair => Assert.True(pair.Second - pair.First >= TimeSpan.FromMilliseconds(62.5)));
        Assert.True(DateTimeOffset.UtcNow >= ordered[^1]);
    }

    private static ImageJobsOptions Options() => new() { StateContainer = "pacing-" + Guid.NewGuid().ToString("N")[..12] };

    private (ProviderPacing Pacing, RequestCounter Requests) Pacing(ImageJobsOptions options)
    {
        var counter = new RequestCounter();
        var clientOptions = new BlobClientOptions();
        clientOptions.AddPolicy(counter, HttpPipelinePosition.PerRetry);
        var blobs = new BlobServiceClient(azurite.ConnectionString, clientOptions);
        return (new ProviderPacing(new JobStateStore(blobs, options), TimeProvider.System, options), counter);
    }

    private sealed class RequestCounter : HttpPipelineSynchronousPolicy
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public override void OnSendingRequest(HttpMessage message) => Interlocked.Increment(ref _count);
    }
}
