using System.Runtime.InteropServices;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Native;

namespace OrleansLora.Engine.Devices;

/// <summary>
/// The CPU as a device: its model name (from <c>/proc/cpuinfo</c>, else the runtime's architecture) with the
/// native kernels' ISA, the memory this process may use, and what a CPU runner holds of it.
/// </summary>
public static class CpuDevice
{
    // The name cannot change while the process runs, and the load publisher asks every second.
    private static readonly Lazy<string> CachedName = new(() => $"{ReadModelName()} ({NativeKernels.Isa})");

    /// <summary>E.g. "Intel(R) Xeon(R) Platinum 8480+ (amx)".</summary>
    public static string Name => CachedName.Value;

    /// <summary>
    /// Physical memory as the runtime sees it: the machine's, or the container's limit when lower (what this
    /// process can actually use).
    /// </summary>
    public static long MemoryTotalBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>The first <c>model name</c> (x86) or <c>Model</c> (some ARM kernels) value of <c>/proc/cpuinfo</c> text; null when there is none.</summary>
    public static string? ParseModelName(string cpuinfo)
    {
        string? model = null;
        foreach (var line in cpuinfo.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon < 0)
                continue;
            string key = line[..colon].Trim();
            string value = line[(colon + 1)..].Trim();
            if (value.Length == 0)
                continue;
            if (key == "model name")
                return value;
            if (key == "Model")
                model ??= value;
        }
        return model;
    }

    /// <summary>
    /// Bytes a CPU runner holds: the weights, its KV cache (<paramref name="kvCacheBytes"/>: the blocks or slots
    /// allocated) and the adapter slot tables once allocated.
    /// </summary>
    public static long HeldBytes(LlamaModel model, long kvCacheBytes, long adapterTableBytes) =>
        model.WeightBytes + kvCacheBytes + adapterTableBytes;

    public static DeviceDescription Describe(long heldBytes) => new(DeviceDescription.Cpu, Name, MemoryTotalBytes, heldBytes);

    private static string ReadModelName()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo") && ParseModelName(File.ReadAllText("/proc/cpuinfo")) is { } name)
                return name;
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return $"{RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()} CPU";
    }
}
