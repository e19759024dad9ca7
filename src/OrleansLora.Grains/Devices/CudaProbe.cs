using OrleansLora.Engine.Cuda;

namespace OrleansLora.Grains.Devices;

/// <summary>
/// What <see cref="DeviceResolver"/> asks of CUDA at start-up: the devices this process can use, and why the runner
/// library cannot run host emulation (null when it can). <see cref="Machine"/> asks this machine; tests hand in
/// recorded answers for the cases this machine cannot show (a GPU present, a library missing).
/// </summary>
public sealed record CudaProbe(Func<CudaAvailability> Devices, Func<string?> HostEmulationUnavailable)
{
    public static CudaProbe Machine { get; } = new(CudaLibrary.Probe, () => CudaLibrary.TryLoad(out string? error) ? null : error);
}
