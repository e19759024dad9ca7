namespace OrleansLora.Engine.Generation;

/// <summary>The most recent durations (a ring of fixed size) with percentiles over them; thread-safe.</summary>
internal sealed class LatencySamples(int capacity = 1024)
{
    private readonly double[] _ring = new double[capacity];
    private readonly Lock _gate = new();
    private long _count;

    public long Count
    {
        get
        {
            lock (_gate)
                return _count;
        }
    }

    public void Add(double milliseconds)
    {
        lock (_gate)
            _ring[_count++ % _ring.Length] = milliseconds;
    }

    /// <summary>The nearest-rank percentile (0-100) of the kept samples; 0 before any sample.</summary>
    public double Percentile(double p)
    {
        double[] kept;
        lock (_gate)
            kept = _ring.AsSpan(0, (int)Math.Min(_count, _ring.Length)).ToArray();
        if (kept.Length == 0)
            return 0;
        Array.Sort(kept);
        int rank = (int)Math.Ceiling(p / 100 * kept.Length);
        return kept[Math.Clamp(rank - 1, 0, kept.Length - 1)];
    }
}
