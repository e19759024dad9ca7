using OrleansLora.Server.Tests.Support;

namespace OrleansLora.Server.Tests.Playground;

/// <summary>A second real server that wants the Bearer key <see cref="Key"/> on its APIs (the page itself is served without one).</summary>
public sealed class PlaygroundKeyedGateway : GatewayFixture
{
    public const string Key = "playground-test-key";

    protected override IEnumerable<string> ExtraArguments => [$"--OrleansLora:Gateway:ApiKeys:0={Key}"];
}
