using Orleans.Core.Internal;
using OrleansLora.Cluster.Tests.Support;
using OrleansLora.Devices;
using OrleansLora.Grains;

namespace OrleansLora.Cluster.Tests.InProcess;

[Collection(ClusterCollection.Name)]
public sealed class PlacementTests(ClusterFixture fixture)
{
    [Fact]
    public async Task ThirtyAdaptersSpreadOverWorkersNeverOnTheGatewayAndWithinSlots()
    {
        var gatewaySilo = fixture.Cluster.Silos.Single(s => s.Name == ClusterFixture.GatewaySiloName).SiloAddress;
        var workers = fixture.Cluster.Silos.Where(s => s.Name != ClusterFixture.GatewaySiloName).Select(s => s.SiloAddress).ToHashSet();

        var descriptions = await Task.WhenAll(Enumerable.Range(0, ClusterFixture.AdapterCount)
            .Select(i => fixture.Client.GetGrain<IAdapterGrain>(TestFiles.AdapterId(i)).Describe()));

        var perDevice = descriptions.GroupBy(d => d.Device).ToDictionary(g => g.Key!, g => g.Count());
        Assert.All(descriptions, d =>
        {
            Assert.NotNull(d.Device);
            Assert.True(DeviceKey.TryParse(d.Device!, out var silo, out _));
            Assert.NotEqual(gatewaySilo, silo);
            Assert.Contains(silo, workers);
            Assert.Equal("gpu", d.Residency);
        });
        Assert.All(perDevice, kv => Assert.InRange(kv.Value, 1, ClusterFixture.PinnableSlots));
        Assert.Equal(2, perDevice.Count); // both workers hold adapters

        // The devices agree: each reports as many pins as adapters placed on it.
        foreach (var (device, count) in perDevice)
        {
            var load = await fixture.Client.GetGrain<IGpuGrain>(device).GetLoad();
            Assert.True(load.PinnedAdapters >= count, $"{device}: {load.PinnedAdapters} pinned, {count} adapters placed");
            Assert.InRange(load.PinnedAdapters, 0, ClusterFixture.PinnableSlots);
        }
    }

    [Fact]
    public async Task APinIsInEverySilosViewWhenItsActivationReturns()
    {
        // Placement through any silo decides from that silo's view: a pin that reached it only with the next
        // periodic publish let consecutive activations through two gateways fill one device past its slots.
        string id = TestFiles.AdapterId(12);
        var grain = fixture.Client.GetGrain<IAdapterGrain>(id);
        Assert.Equal("gpu", (await grain.Describe()).Residency);
        await grain.Cast<IGrainManagementExtension>().DeactivateOnIdle(); // unpins
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (fixture.Views.Any(v => v.Fresh().Any(l => l.PinnedAdapterIds.Contains(id))))
        {
            Assert.True(DateTime.UtcNow < deadline, "the deactivated adapter still shows pinned in some silo's view");
            await Task.Delay(20);
        }

        var after = await grain.Describe(); // re-activates it, and pins it
        Assert.Equal("gpu", after.Residency);
        foreach (var (view, silo) in fixture.Views.Zip(fixture.Cluster.Silos))
        {
            var load = view.Fresh().Single(l => l.Key == after.Device);
            Assert.True(load.PinnedAdapterIds.Contains(id) && load.CachedAdapters.Contains(id),
                $"silo {silo.Name}'s view of {after.Device} (published {load.PublishedAt:O}) does not show {id} pinned when its activation returned");
        }
    }
}
