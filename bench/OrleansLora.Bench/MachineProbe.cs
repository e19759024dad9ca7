using System.Diagnostics;
using OrleansLora.Engine.Quantization;
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

    /// <summary>
    /// The NF4 GEMV's rate with W in cache, in GB/s of codes and absmax: one row of x times a 1024 × 1024 NF4 layer
    /// (576 KB, L2-resident) in <paramref name="compute"/>, best of several batches of 200 calls. Beside the read probe it
    /// tells a slow memory period from a slow CPU one: a decode step is bound by whichever of the two rates is lower.
    /// </summary>
    public static double CachedNf4GemvGbps(QuantizedCompute compute)
    {
        using var weight = randn(1024, 1024);
        using var layer = Nf4Linear.Quantize(weight, compute);
        using var x = randn(1, 1024);
        using var y = empty(1, 1024);
        double best = double.MaxValue;
        for (int i = 0; i < 6; i++)
        {
            var start = Stopwatch.GetTimestamp();
            for (int call = 0; call < 200; call++)
                layer.ForwardInto(x, y);
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds / 200);
        }
        return layer.WeightBytes / best / 1e9;
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
