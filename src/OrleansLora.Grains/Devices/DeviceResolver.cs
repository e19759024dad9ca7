using Microsoft.Extensions.Logging;
using OrleansLora.Engine.Cuda;

namespace OrleansLora.Grains.Devices;

/// <summary>
/// Turns <see cref="DeviceSpec"/> into the devices this silo serves on, once at start-up. <c>cuda:N</c> without
/// that device is a start-up error (an ArgumentException, so exit code 2) naming the reason (no library, no driver, no device, index out of range);
/// <c>auto</c> falls back to the CPU with one log line.
/// </summary>
public static partial class DeviceResolver
{
    /// <summary>
    /// Why a present CUDA device is not used yet: the CUDA runner's kernels and C ABI exist (native-kernels/cuda,
    /// compiled in CI) but its whole-model forward does not, so no engine can serve a model on it.
    /// </summary>
    public const string CudaRunnerMissing =
        "the CUDA model runner cannot serve a model yet (its kernels are built, the whole-model forward is not: docs/GPU.md)";

    public static IReadOnlyList<DeviceTarget> Resolve(DeviceSpec spec, Func<CudaAvailability> probe, ILogger logger)
    {
        if (!spec.Auto && !spec.HasCuda)
            return spec.Targets;
        var cuda = probe();
        if (spec.Auto)
        {
            if (cuda.Available)
                LogAutoCudaUnused(logger, string.Join(", ", cuda.Devices.Select(d => $"cuda:{d.Index} {d.Name}")), CudaRunnerMissing);
            else
                LogAutoNoCuda(logger, cuda.Reason ?? "none found");
            return [DeviceTarget.Cpu(0)];
        }
        if (!cuda.Available)
            throw new ArgumentException(
                $"{DeviceSpec.Key} = {string.Join(",", spec.Targets)}, but no CUDA device is usable: {cuda.Reason}. Use 'cpu', or 'auto' to fall back to the CPU.", nameof(WorkerOptions.Devices));
        foreach (var t in spec.Targets)
        {
            if (t.Index >= cuda.Devices.Count)
                throw new ArgumentException(
                    $"{DeviceSpec.Key} lists {t}, but this machine has {cuda.Devices.Count} CUDA device(s) ({string.Join(", ", cuda.Devices.Select(d => $"cuda:{d.Index} {d.Name}"))}).", nameof(WorkerOptions.Devices));
        }
        var first = cuda.Devices[spec.Targets[0].Index];
        throw new ArgumentException(
            $"{DeviceSpec.Key} = {string.Join(",", spec.Targets)}: {spec.Targets[0]} ({first.Name}, {first.TotalBytes / (1L << 30)} GiB) is present, but {CudaRunnerMissing}. Use 'cpu' or 'auto'.", nameof(WorkerOptions.Devices));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Devices = auto: no CUDA device ({Reason}); serving on the CPU")]
    private static partial void LogAutoNoCuda(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Devices = auto: found {Devices}, but {Why}; serving on the CPU")]
    private static partial void LogAutoCudaUnused(ILogger logger, string devices, string why);
}
