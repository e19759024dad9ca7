namespace OrleansLora.Server.Tests.Support;

/// <summary>A server of its own (the drain test stops it), with a grace period long enough that only the test ends the drain.</summary>
public sealed class DrainingGatewayFixture : GatewayFixture
{
    protected override IEnumerable<string> ExtraArguments => ["--OrleansLora:Drain:GracePeriod=00:01:00", "--OrleansLora:Drain:RetryAfterSeconds=3"];
}
