using OrleansLora.Cluster.Tests.Support;
using OrleansLora.Engine.Models;

namespace OrleansLora.Cluster.Tests.Devices;

/// <summary>
/// The devices' description (kind, name, memory) travels with their load to every silo, the gateway-only one
/// included (Orleans serialization between silos), and each device appears once in every view.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class DeviceDescriptionTests(ClusterFixture fixture)
{
    [Fact]
    public void Every_silo_sees_each_cpu_device_once_with_its_name_and_memory()
    {
        // The fixture's engines: MaxBatchSize 8 sequences of 160 positions, float32, a 24 MiB KV budget.
        var config = ModelConfig.Load(fixture.Files.ModelPath);
        long kv = Math.Min(8L * 2 * config.NumHiddenLayers * config.NumKeyValueHeads * 160 * config.HeadDim * 4, 24L << 20);
        long weights = Directory.GetFiles(fixture.Files.ModelPath, "*.safetensors").Sum(f => new FileInfo(f).Length);
        var views = fixture.Views.Select(v => v.Fresh().OrderBy(l => l.Key, StringComparer.Ordinal).ToList()).ToList();
        int workers = fixture.Cluster.Silos.Count(s => s.Name != ClusterFixture.GatewaySiloName);

        foreach (var view in views)
        {
            Assert.Equal(workers, view.Count);
            Assert.Equal(workers, view.Select(l => l.Key).Distinct().Count());
            Assert.Equal(workers, view.Select(l => l.Silo).Distinct().Count()); // one device per worker silo
            Assert.Equal(views[0].Select(l => (l.Key, l.DeviceKind, l.DeviceName, l.MemoryTotalBytes)), view.Select(l => (l.Key, l.DeviceKind, l.DeviceName, l.MemoryTotalBytes)));
            foreach (var load in view)
            {
                Assert.Equal("cpu", load.DeviceKind);
                Assert.False(string.IsNullOrWhiteSpace(load.DeviceName));
                Assert.InRange(load.MemoryUsedBytes, kv + weights, load.MemoryTotalBytes - 1);
            }
        }
    }
}
