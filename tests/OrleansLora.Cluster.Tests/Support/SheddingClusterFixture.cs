using Orleans.TestingHost;

namespace OrleansLora.Cluster.Tests.Support;

/// <summary>
/// Two worker silos whose devices run two sequences at a time and shed an adapter after one second of
/// saturation, so a test can saturate one device and watch an adapter move to the other.
/// </summary>
public sealed class SheddingClusterFixture : ClusterFixture
{
    public const int MaxBatchSize = 2;

    protected override short SiloCount => 2;

    protected override void Configure(TestClusterBuilder builder)
    {
        builder.Properties["OrleansLora:Engine:MaxBatchSize"] = MaxBatchSize.ToString();
        builder.Properties["OrleansLora:Worker:ShedAfter"] = "00:00:01";
        builder.Properties["OrleansLora:Worker:LoadPublishPeriod"] = "00:00:00.250";
    }
}
