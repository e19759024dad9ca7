using System.Net;
using OrleansLora.Cluster.Tests.Support;
using OrleansLora.Devices;
using OrleansLora.Grains;

namespace OrleansLora.Cluster.Tests.InProcess;

/// <summary>The placement choice, on synthetic silos (candidates are passed in, so the real devices do not interfere).</summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterLoadGrainTests(ClusterFixture fixture)
{
    private static int _nextPort = 40000;

    private static SiloAddress NewSilo() => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, Interlocked.Increment(ref _nextPort)), 1);

    private static DeviceLoad Load(SiloAddress silo, int slots, int pinned, int waiting = 0, params string[] cached) => new()
    {
        Silo = silo,
        AdapterSlots = slots,
        PinnedAdapters = pinned,
        WaitingRequests = waiting,
        MaxBatchSize = 8,
        CachedAdapters = cached,
        PublishedAt = DateTimeOffset.UtcNow,
    };

    private IClusterLoadGrain Grain => fixture.Client.GetGrain<IClusterLoadGrain>(0);

    [Fact]
    public async Task PrefersTheSiloWithMoreFreeSlots()
    {
        var (x, y) = (NewSilo(), NewSilo());
        await Grain.Publish(Load(x, slots: 8, pinned: 7));
        await Grain.Publish(Load(y, slots: 8, pinned: 2));
        Assert.Equal(y, await Grain.ChooseSilo("fresh-adapter", [x, y]));
    }

    [Fact]
    public async Task PrefersASiloThatAlreadyHoldsTheWeightsWhenItHasRoom()
    {
        var (x, y) = (NewSilo(), NewSilo());
        await Grain.Publish(Load(x, slots: 8, pinned: 6, cached: "warm-adapter"));
        await Grain.Publish(Load(y, slots: 8, pinned: 0));
        Assert.Equal(x, await Grain.ChooseSilo("warm-adapter", [x, y]));
    }

    [Fact]
    public async Task ABurstOfPlacementsNeverExceedsTheFreeSlots()
    {
        var (x, y) = (NewSilo(), NewSilo());
        await Grain.Publish(Load(x, slots: 3, pinned: 0));
        await Grain.Publish(Load(y, slots: 3, pinned: 0));
        // No publish in between: the grain counts its own reservations.
        var chosen = new List<SiloAddress?>();
        for (int i = 0; i < 6; i++)
            chosen.Add(await Grain.ChooseSilo($"burst-{i}", [x, y]));
        Assert.Equal(3, chosen.Count(c => c == x));
        Assert.Equal(3, chosen.Count(c => c == y));
    }

    [Fact]
    public async Task OnlySilosThatPublishedDevicesAreCandidates()
    {
        var gatewayOnly = NewSilo(); // never publishes: it has no devices
        Assert.Null(await Grain.ChooseSilo("anything", [gatewayOnly]));
        var worker = NewSilo();
        await Grain.Publish(Load(worker, slots: 1, pinned: 1)); // full: still chosen, the adapter then runs from swap slots
        Assert.Equal(worker, await Grain.ChooseSilo("anything", [gatewayOnly, worker]));
    }
}
