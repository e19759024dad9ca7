using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OrleansLora.Devices;
using OrleansLora.Grains;
using OrleansLora.Grains.Devices;
using OrleansLora.Grains.Hosting;
using OrleansLora.Grains.Placement;

namespace OrleansLora.Cluster.Tests.Support;

/// <summary>
/// Three in-process silos: two workers (one device each: 16 pinnable adapter slots plus one swap slot)
/// and one gateway-only silo (no devices), all on a tiny random model with 30 adapters in the store.
/// </summary>
public class ClusterFixture : IAsyncLifetime
{
    public const int AdapterCount = 30;
    public const int PinnableSlots = 16;
    public const string GatewaySiloName = "Secondary_2";

    public TestFiles Files { get; } = new(AdapterCount);
    public TestCluster Cluster { get; private set; } = null!;
    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(SiloCount);
        builder.Options.AssumeHomogenousSilosForTesting = false;
        builder.Properties["OrleansLora:Engine:ModelPath"] = Files.ModelPath;
        builder.Properties["OrleansLora:Engine:MaxLoras"] = (PinnableSlots + 1).ToString();
        builder.Properties["OrleansLora:Engine:MaxLoraRank"] = "16";
        builder.Properties["OrleansLora:Engine:MaxBatchSize"] = "8";
        builder.Properties["OrleansLora:Engine:MaxSequenceLength"] = "160";
        builder.Properties["OrleansLora:Engine:KvCacheBytes"] = (24L * 1024 * 1024).ToString();
        builder.Properties["OrleansLora:Engine:Threads"] = "1";
        builder.Properties["OrleansLora:Worker:Devices"] = "1";
        builder.Properties["OrleansLora:Worker:SwapSlots"] = "1";
        builder.Properties["OrleansLora:AdapterStore:Root"] = Files.AdapterRoot;
        // Tests here check where adapters are and what devices hold: measured-load rebalancing would move
        // adapters under them. RebalancingTests turns it on.
        builder.Properties["OrleansLora:Worker:Rebalance"] = "false";
        // These tests check pins and pinnable slots: every adapter pins when it activates (the default lets
        // traffic decide; the gateway's tests cover that).
        builder.Properties["OrleansLora:Worker:PinOnActivation"] = "true";
        Configure(builder);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        await WaitForDevices(Cluster.Silos.Count(s => s.Name != GatewaySiloName) * DevicesPerWorker);
    }

    /// <summary>Devices (engines) each worker silo serves on.</summary>
    protected virtual int DevicesPerWorker => 1;

    /// <summary>Silos in the cluster: the third (when there is one) is the gateway-only silo.</summary>
    protected virtual short SiloCount => 3;

    /// <summary>Lets a derived fixture change configuration properties before the cluster is built.</summary>
    protected virtual void Configure(TestClusterBuilder builder)
    {
    }

    /// <summary>Each silo's view of the cluster's device load (what its placement decides from).</summary>
    public IReadOnlyList<DeviceLoadView> Views =>
        Cluster.Silos.OfType<InProcessSiloHandle>().Select(s => s.SiloHost.Services.GetRequiredService<DeviceLoadView>()).ToList();

    /// <summary>The devices' load as the first silo last received it.</summary>
    public IReadOnlyList<DeviceLoad> Loads() => Views[0].Fresh();

    /// <summary>Waits until every silo's view holds <paramref name="count"/> devices (placement on any silo needs them).</summary>
    public async Task WaitForDevices(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (Views.Any(v => v.Fresh().Count < count))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"within 60 s, not every silo's view held {count} devices: [{string.Join(", ", Views.Select(v => v.Fresh().Count))}].");
            await Task.Delay(100);
        }
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        Files.Dispose();
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.AddMemoryGrainStorage(GrainStorageNames.Adapters);
            siloBuilder.AddOrleansLora(siloBuilder.Configuration);
            if (siloBuilder.Configuration["Orleans:Name"] == GatewaySiloName)
                siloBuilder.Services.PostConfigure<WorkerOptions>(o => o.Devices = "0");
        }
    }
}
