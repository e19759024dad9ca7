using System.Diagnostics;
using OrleansLora.Engine.Modeling;
using static TorchSharp.torch;

namespace OrleansLora.Bench;

/// <summary>
/// Times the LoRA calls of a forward pass directly (the sum over its 7 × layers calls), so the
/// LoRA time per step is measured rather than taken as the difference of two step times, which
/// on a shared machine is noise of the same size as the figure.
/// </summary>
internal sealed class TimedLora(ILoraApplier inner) : ILoraApplier
{
    private long _ticks;

    public void Apply(int layer, string module, Tensor x, Tensor y, int[] segmentStarts, int[] segmentSlots)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.Apply(layer, module, x, y, segmentStarts, segmentSlots);
        _ticks += Stopwatch.GetTimestamp() - t0;
    }

    /// <summary>Milliseconds spent in Apply since the last call.</summary>
    public double TakeMilliseconds()
    {
        double ms = Stopwatch.GetElapsedTime(0, _ticks).TotalMilliseconds;
        _ticks = 0;
        return ms;
    }
}
