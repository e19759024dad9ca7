using System.Diagnostics;
using System.Runtime;

namespace OrleansLora.Bench;

/// <summary>
/// Untimed repetitions of a step until the JIT has settled. Tiered compilation first runs new methods unoptimized, counts
/// their calls after 100 ms without new compilations, and recompiles the hot ones on a background thread. On a 2-core
/// machine that thread takes a core from the kernels' thread pool for a few hundred milliseconds, and a short timed run
/// measures unoptimized managed code: a 64-token NF4 decode lasts about 100 ms. A server runs the optimized code for
/// hours, which is what the timed steps should see.
/// </summary>
internal static class JitWarmup
{
    /// <summary>What the warm-up did: steps run, its wall time, methods compiled during it, whether the JIT went quiet before the cap.</summary>
    public sealed record Result(int Steps, double Milliseconds, long MethodsCompiled, bool Quiet);

    /// <summary>
    /// Runs <paramref name="step"/> until no method has been compiled for <paramref name="quiet"/> (and at least
    /// <paramref name="minSteps"/> times), or for at most <paramref name="cap"/>.
    /// </summary>
    public static Result UntilQuiet(Action<int> step, TimeSpan quiet, TimeSpan cap, int minSteps = 16)
    {
        ArgumentNullException.ThrowIfNull(step);
        long first = JitInfo.GetCompiledMethodCount();
        long last = first;
        var start = Stopwatch.GetTimestamp();
        var lastChange = start;
        int steps = 0;
        while (true)
        {
            step(steps++);
            long now = JitInfo.GetCompiledMethodCount();
            if (now != last)
            {
                last = now;
                lastChange = Stopwatch.GetTimestamp();
            }
            bool quietNow = Stopwatch.GetElapsedTime(lastChange) >= quiet;
            if ((quietNow && steps >= minSteps) || Stopwatch.GetElapsedTime(start) >= cap)
                return new Result(steps, Stopwatch.GetElapsedTime(start).TotalMilliseconds, last - first, quietNow);
        }
    }
}
