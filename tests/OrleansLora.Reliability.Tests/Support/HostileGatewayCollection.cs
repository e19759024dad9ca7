namespace OrleansLora.Reliability.Tests.Support;

/// <summary>Reliability tests that share one keyed server.</summary>
[CollectionDefinition(Name)]
public sealed class HostileGatewayCollection : ICollectionFixture<HostileGatewayFixture>
{
    public const string Name = "hostile-gateway";
}
