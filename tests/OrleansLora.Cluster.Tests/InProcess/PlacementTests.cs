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
}
