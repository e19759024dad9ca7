namespace OrleansLora.Testing;

/// <summary>A gateway-only silo alone in its cluster: the HTTP API is up, but no worker has a device to serve on.</summary>
public sealed class GatewayOnlyFixture : GatewayFixture
{
    protected override IEnumerable<string> ExtraArguments => ["--role", "gateway"];

    protected override bool WaitUntilReady => false;
}
