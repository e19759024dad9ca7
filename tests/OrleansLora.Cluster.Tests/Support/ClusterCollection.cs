namespace OrleansLora.Cluster.Tests.Support;

/// <summary>One three-silo cluster shared by the in-process test classes (starting one costs seconds).</summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
