namespace OrleansLora.Reliability.Tests.Support;

/// <summary>
/// The server the reliability suite attacks: API keys and an admin key set, as a real deployment has
/// them, the embedded tiny model and demo adapters.
/// </summary>
public sealed class HostileGatewayFixture : GatewayFixture
{
    public const string UserKey = "reliability-user-key";
    public const string AdminKey = "reliability-admin-key";

    protected override IEnumerable<string> ExtraArguments =>
    [
        $"--OrleansLora:Gateway:ApiKeys:0={UserKey}",
        $"--OrleansLora:Gateway:AdminKeys:0={AdminKey}",
    ];
}
