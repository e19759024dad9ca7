namespace OrleansLora.Server.Tests.Support;

/// <summary>Tests that share one default server (no API keys).</summary>
[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}
