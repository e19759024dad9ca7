namespace OrleansLora.Server.Tests.Support;

/// <summary>
/// A server whose worker serves on <c>cuda:0,cuda:1</c> under <c>CudaHostEmulation</c>: two CUDA runner engines on host
/// emulation contexts (the CUDA runner's forward on the CPU), two GPU grains on one silo. One pinnable slot per device
/// and pins on activation, so a second adapter goes to the second device. Needs <c>OLORA_CUDA_LIBRARY</c>.
/// </summary>
public sealed class EmulatedCudaGatewayFixture : GatewayFixture
{
    protected override IEnumerable<string> ExtraArguments =>
    [
        "--OrleansLora:Worker:Devices=cuda:0,cuda:1",
        "--OrleansLora:Worker:CudaHostEmulation=true",
        "--OrleansLora:Worker:PinOnActivation=true",
        "--OrleansLora:Engine:MaxLoras=2",
    ];
}
