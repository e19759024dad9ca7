namespace OrleansLora.Reliability.Tests.Gateway;

/// <summary>A server configured with a small <c>MaxRequestBodyBytes</c>, to see the option applied on every endpoint.</summary>
public sealed class SmallBodyGatewayFixture : GatewayFixture
{
    public const int Limit = 4096;

    protected override IEnumerable<string> ExtraArguments => [$"--OrleansLora:Gateway:MaxRequestBodyBytes={Limit}"];
}
