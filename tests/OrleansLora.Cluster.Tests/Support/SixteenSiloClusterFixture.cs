using Orleans.TestingHost;

namespace OrleansLora.Cluster.Tests.Support;

/// <summary>Sixteen in-process silos: fifteen workers (one device each) and the gateway-only silo.</summary>
public sealed class SixteenSiloClusterFixture : ClusterFixture
{
    public const int Workers = 15;

    protected override short SiloCount => Workers + 1;

    protected override void Configure(TestClusterBuilder builder)
    {
        // Sixteen silos on a shared 2-core machine: small engines, and start-up given time.
        builder.Properties["OrleansLora:Engine:KvCacheBytes"] = (8L * 1024 * 1024).ToString();
    }
}
