using System.Diagnostics;

namespace OrleansLora.Engine.Generation;

/// <summary>Generated tokens per second over the last few seconds, from a monotonically growing count.</summary>
internal sealed class TokenRate
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(5);
    private readonly Lock _gate = new();
    private long _anchorTimestamp = Stopwatch.GetTimestamp();
    private long _anchorCount;
    private double _last;

    public double PerSecond(long count)
    {
        lock (_gate)
        {
            var elapsed = Stopwatch.GetElapsedTime(_anchorTimestamp);
            if (elapsed < TimeSpan.FromMilliseconds(250))
                return _last;
            _last = (count - _anchorCount) / elapsed.TotalSeconds;
            if (elapsed > Window)
            {
                _anchorTimestamp = Stopwatch.GetTimestamp();
                _anchorCount = count;
            }
            return _last;
        }
    }
}
