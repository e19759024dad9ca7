namespace OrleansLora.Grains.Devices;

/// <summary>How many devices this silo owns (0 on a gateway-only silo); what adapter grains need to know of them.</summary>
public sealed record LocalDevices(int Count)
{
    /// <summary>Which device each engine index serves on (<see cref="DeviceResolver"/>); Count entries.</summary>
    public IReadOnlyList<DeviceTarget> Targets { get; init; } = [.. Enumerable.Range(0, Count).Select(DeviceTarget.Cpu)];

    /// <summary>The devices <see cref="WorkerOptions.Devices"/> resolves to on this machine (probes CUDA only when asked to).</summary>
    public static LocalDevices Resolve(WorkerOptions options, CudaProbe probe, Microsoft.Extensions.Logging.ILogger logger)
    {
        var targets = DeviceResolver.Resolve(DeviceSpec.Parse(options.Devices), options.CudaHostEmulation, probe, logger);
        return new LocalDevices(targets.Count) { Targets = targets };
    }
}
