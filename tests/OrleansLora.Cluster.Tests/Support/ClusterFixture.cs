using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OrleansLora.Grains;
using OrleansLora.Grains.Devices;
using OrleansLora.Grains.Hosting;

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
        Configure(builder);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        await WaitForDevices(2);
    }

    /// <summary>Silos in the cluster: the third (when there is one) is the gateway-only silo.</summary>
    protected virtual short SiloCount => 3;

    /// <summary>Lets a derived fixture change configuration properties before the cluster is built.</summary>
    protected virtual void Configure(TestClusterBuilder builder)
    {
    }

    /// <summary>Waits until <paramref name="count"/> devices have published their load (placement needs it).</summary>
    public async Task WaitForDevices(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await Client.GetGrain<IClusterLoadGrain>(0).GetLoads()).Count < count)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"fewer than {count} devices published their load within 60 s.");
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
                siloBuilder.Services.PostConfigure<WorkerOptions>(o => o.Devices = 0);
        }
    }
}
