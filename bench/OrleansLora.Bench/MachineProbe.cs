using System.Diagnostics;
using static TorchSharp.torch;

namespace OrleansLora.Bench;

/// <summary>This machine's ceilings, measured in the same run as the figures they bound.</summary>
internal static class MachineProbe
{
    public static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line?.Split(':', 2)[1].Trim() ?? "unknown";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    /// <summary>
    /// Streaming read bandwidth in GB/s: best of several full sums over a 3 GiB fp32 tensor, far
    /// beyond the 508 MiB L3 the VM reports, so the figure is DRAM's.
    /// </summary>
    public static double ReadBandwidthGbps()
    {
        using var data = ones(768L * 1024 * 1024, dtype: ScalarType.Float32);
        double best = double.MaxValue;
        for (int i = 0; i < 6; i++)
        {
            var start = Stopwatch.GetTimestamp();
            using var s = data.sum();
            _ = s.item<float>();
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        return data.NumberOfElements * 4 / best / 1e9;
    }

    /// <summary>fp32 GEMM rate in GFLOP/s (2048³), best of several.</summary>
    public static double GemmGflops()
    {
        const int n = 2048;
        using var a = randn(n, n);
        using var b = randn(n, n);
        using var c = empty(n, n);
        double best = double.MaxValue;
        for (int i = 0; i < 6; i++)
        {
            var start = Stopwatch.GetTimestamp();
            matmul(a, b, c);
            _ = c[0, 0].item<float>();
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        return 2.0 * n * n * n / best / 1e9;
    }

    private static void matmul(Tensor a, Tensor b, Tensor output)
    {
        using var r = a.matmul(b);
        output.copy_(r);
    }
}
