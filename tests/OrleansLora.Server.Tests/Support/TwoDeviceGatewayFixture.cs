namespace OrleansLora.Server.Tests.Support;

/// <summary>A server whose worker runs two CPU engines (<c>OrleansLora:Worker:Devices=2</c>): two devices on one silo.</summary>
public sealed class TwoDeviceGatewayFixture : GatewayFixture
{
    protected override IEnumerable<string> ExtraArguments => ["--OrleansLora:Worker:Devices=2"];
}
