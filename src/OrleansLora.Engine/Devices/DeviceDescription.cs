namespace OrleansLora.Engine.Devices;

/// <summary>
/// The device a model runner computes on, as the gateway reports it (<c>/info</c>, <c>/v1/adapters</c>, metrics):
/// <paramref name="Kind"/> "cpu" or "cuda", a human-readable <paramref name="Name"/>, the device's memory and the part
/// of it in use (the CPU runner: what its engine holds; CUDA: the device's, from <c>cudaMemGetInfo</c>).
/// </summary>
public sealed record DeviceDescription(string Kind, string Name, long MemoryTotalBytes, long MemoryUsedBytes)
{
    public const string Cpu = "cpu";
    public const string Cuda = "cuda";

    /// <summary>For runners that cannot say (test fakes): kind "unknown", no memory figures.</summary>
    public static DeviceDescription Unknown(string name) => new("unknown", name, 0, 0);
}
