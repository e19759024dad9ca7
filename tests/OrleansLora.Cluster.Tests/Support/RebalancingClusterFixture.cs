using Orleans.TestingHost;

namespace OrleansLora.Cluster.Tests.Support;

/// <summary>
/// Two workers and the gateway-only silo with measured-load rebalancing on, publishing four times a second and
/// moving at most one adapter per silo a second, so a test can add a worker and watch adapters move to it.
/// </summary>
public sealed class RebalancingClusterFixture : ClusterFixture
{
    protected override void Configure(TestClusterBuilder builder)
    {
        builder.Properties["OrleansLora:Worker:Rebalance"] = "true";
        builder.Properties["OrleansLora:Worker:RebalanceCooldown"] = "00:00:01";
        builder.Properties["OrleansLora:Worker:LoadPublishPeriod"] = "00:00:00.250";
    }
}
