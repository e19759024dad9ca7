using Orleans.TestingHost;

namespace OrleansLora.Cluster.Tests.Support;

/// <summary>
/// One worker silo with <c>Devices = cuda:0,cuda:1</c> under <c>CudaHostEmulation</c>: two CUDA runner engines on host
/// emulation contexts of libolora_cuda.so (the whole CUDA runner path on the CPU), two GPU grains. Each device has
/// three adapter slots (two pinnable, one swap), so a few adapters fill one device and placement goes to the other.
/// Needs <c>OLORA_CUDA_LIBRARY</c> (scripts/test.sh sets it); without it the silo refuses to start, naming the library.
/// </summary>
public sealed class EmulatedCudaClusterFixture : ClusterFixture
{
    public const int Devices = 2;
    public const int Pinnable = 2;

    protected override short SiloCount => 1;

    protected override int DevicesPerWorker => Devices;

    protected override void Configure(TestClusterBuilder builder)
    {
        builder.Properties["OrleansLora:Worker:Devices"] = "cuda:0,cuda:1";
        builder.Properties["OrleansLora:Worker:CudaHostEmulation"] = "true";
        builder.Properties["OrleansLora:Engine:MaxLoras"] = (Pinnable + 1).ToString();
        builder.Properties["OrleansLora:Engine:MaxBatchSize"] = "4";
    }
}
