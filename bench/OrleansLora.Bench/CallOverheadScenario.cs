using System.Diagnostics;
using System.Text.Json.Nodes;
using OrleansLora.Engine.Native;
using static TorchSharp.torch;

namespace OrleansLora.Bench;

/// <summary>
/// The fixed cost of one native kernel call from the engine, apart from its arithmetic: an SGMV call
/// on a column slice with one row and rank 1 (argument checks, the slice, the native dispatch), next
/// to the TorchSharp reads the checks are made of. A decode step makes 7 × layers such calls.
/// </summary>
internal static class CallOverheadScenario
{
    private const int Calls = 20000;

    public static void Run(BenchReport report)
    {
        using var x = randn(32, 1024);
        using var y = zeros(32, 3 * 1024);
        using var a = randn(1, 16, 1024).to(ScalarType.BFloat16);
        using var b = randn(1, 16, 1024).to(ScalarType.BFloat16);
        int[] starts = [0, 1], slots = [0], ranks = [1];
        float[] scales = [0.5f];
        long sink = 0;
        var results = new Dictionary<string, JsonNode?>
        {
            ["sgmv_call_us"] = Time(() =>
            {
                using var slice = y.narrow(1, 1024, 1024);
                SgmvKernel.Apply(x, slice, starts, slots, a, b, ranks, scales);
            }),
            ["narrow_us"] = Time(() => y.narrow(1, 1024, 1024).Dispose()),
            ["shape_read_us"] = Time(() => sink += x.shape[0]),
            ["size_read_us"] = Time(() => sink += x.size(0)),
        };
        report.Add("call-overhead", results);
        GC.KeepAlive(sink);
    }

    /// <summary>Best of 3 batches of <see cref="Calls"/>, in microseconds per call.</summary>
    private static double Time(Action call)
    {
        call();
        double best = double.MaxValue;
        for (int rep = 0; rep < 3; rep++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < Calls; i++)
                call();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalMicroseconds / Calls);
        }
        return Math.Round(best, 3);
    }
}
