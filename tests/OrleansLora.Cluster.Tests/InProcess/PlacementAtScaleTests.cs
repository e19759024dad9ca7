using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OrleansLora.Cluster.Tests.Support;
using OrleansLora.Devices;
using OrleansLora.Grains;

namespace OrleansLora.Cluster.Tests.InProcess;

/// <summary>Placement from each silo's local view with sixteen silos in one cluster.</summary>
public sealed class PlacementAtScaleTests(SixteenSiloClusterFixture fixture) : IClassFixture<SixteenSiloClusterFixture>
{
    [Fact]
    public async Task EverySiloKnowsEveryDeviceAndABurstThroughOneSiloSpreadsEvenlyOverFifteenWorkers()
    {
        var silos = fixture.Cluster.Silos.OfType<InProcessSiloHandle>().ToList();
        Assert.Equal(16, silos.Count);
        var gateway = silos.Single(s => s.Name == ClusterFixture.GatewaySiloName);
        var workers = silos.Where(s => s != gateway).Select(s => s.SiloAddress).ToHashSet();
        // The fixture waited for this: no silo asks another where the devices are.
        Assert.All(fixture.Views, v => Assert.Equal(SixteenSiloClusterFixture.Workers, v.Fresh().Count));

        // Thirty activations placed by the gateway-only silo's director at once: its reservations spread them
        // before any worker publishes again, two per worker.
        var grains = gateway.SiloHost.Services.GetRequiredService<IGrainFactory>();
        var placed = await Task.WhenAll(Enumerable.Range(0, ClusterFixture.AdapterCount)
            .Select(i => grains.GetGrain<IAdapterGrain>(TestFiles.AdapterId(i)).Describe()));
        var perSilo = placed.GroupBy(d => SiloOf(d.Device!)).ToDictionary(g => g.Key, g => g.Count());
        Assert.DoesNotContain(gateway.SiloAddress, perSilo.Keys);
        Assert.Equal(workers.OrderBy(s => s.ToString()), perSilo.Keys.OrderBy(s => s.ToString()));
        Assert.All(perSilo.Values, n => Assert.Equal(ClusterFixture.AdapterCount / SixteenSiloClusterFixture.Workers, n));
        Assert.All(placed, d => Assert.Equal("gpu", d.Residency));
    }

    private static SiloAddress SiloOf(string deviceKey)
    {
        Assert.True(DeviceKey.TryParse(deviceKey, out var silo, out _));
        return silo;
    }
}
