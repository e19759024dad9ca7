using Microsoft.Extensions.Logging;

namespace OrleansLora.Grains.Devices;

/// <summary>
/// Turns <see cref="DeviceSpec"/> into the devices this silo serves on, once at start-up. <c>cuda:N</c> without
/// that device is a start-up error (an ArgumentException, so exit code 2) naming the reason (no library, no driver,
/// no device, index out of range); <c>auto</c> takes every CUDA device, or falls back to the CPU with one log line.
/// Under <see cref="WorkerOptions.CudaHostEmulation"/> the <c>cuda:N</c> entries become host-emulated CUDA runners
/// (no device probed; the runner library must load).
/// </summary>
public static partial class DeviceResolver
{
    public static IReadOnlyList<DeviceTarget> Resolve(DeviceSpec spec, bool hostEmulation, CudaProbe probe, ILogger logger)
    {
        if (!spec.Auto && !spec.HasCuda)
            return spec.Targets;
        if (!spec.Auto && hostEmulation)
            return Emulated(spec, probe, logger);
        var cuda = probe.Devices();
        if (spec.Auto)
        {
            if (!cuda.Available)
            {
                LogAutoNoCuda(logger, cuda.Reason ?? "none found");
                return [DeviceTarget.Cpu(0)];
            }
            LogAutoCuda(logger, Describe(cuda.Devices));
            return [.. cuda.Devices.Select(d => DeviceTarget.Cuda(d.Index))];
        }
        if (!cuda.Available)
            throw new ArgumentException(
                $"{DeviceSpec.Key} = {string.Join(",", spec.Targets)}, but no CUDA device is usable: {cuda.Reason}. Use 'cpu', or 'auto' to fall back to the CPU.", nameof(WorkerOptions.Devices));
        foreach (var t in spec.Targets)
        {
            if (t.Index >= cuda.Devices.Count)
                throw new ArgumentException(
                    $"{DeviceSpec.Key} lists {t}, but this machine has {cuda.Devices.Count} CUDA device(s) ({Describe(cuda.Devices)}).", nameof(WorkerOptions.Devices));
        }
        return spec.Targets;
    }

    private static IReadOnlyList<DeviceTarget> Emulated(DeviceSpec spec, CudaProbe probe, ILogger logger)
    {
        // Checked here rather than when the engines load, so a missing library is a configuration error (exit code 2).
        if (probe.HostEmulationUnavailable() is { } why)
            throw new ArgumentException(
                $"{WorkerOptions.SectionName}:{nameof(WorkerOptions.CudaHostEmulation)} = true with {DeviceSpec.Key} = {string.Join(",", spec.Targets)}, but host emulation needs the CUDA runner library: {why}.",
                nameof(WorkerOptions.CudaHostEmulation));
        List<DeviceTarget> targets = [.. spec.Targets.Select(t => DeviceTarget.EmulatedCuda(t.Index))];
        LogHostEmulation(logger, string.Join(", ", targets));
        return targets;
    }

    private static string Describe(IEnumerable<Engine.Cuda.CudaDeviceInfo> devices) =>
        string.Join(", ", devices.Select(d => $"cuda:{d.Index} {d.Name}"));

    [LoggerMessage(Level = LogLevel.Information, Message = "Devices = auto: no CUDA device ({Reason}); serving on the CPU")]
    private static partial void LogAutoNoCuda(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Devices = auto: serving on {Devices}")]
    private static partial void LogAutoCuda(ILogger logger, string devices);

    [LoggerMessage(Level = LogLevel.Warning, Message = "CudaHostEmulation: {Devices} run the CUDA runner's forward on the CPU (for tests and debugging, slow)")]
    private static partial void LogHostEmulation(ILogger logger, string devices);
}
