namespace OrleansLora.Grains.Placement;

/// <summary>
/// Generation requests per adapter on this silo, over a sliding <see cref="Window"/>: the measured request load
/// that placement and rebalancing even out. Adapter grains record each request; an adapter that leaves the silo is
/// forgotten at once, so the silo's load drops when the adapter goes rather than a window later.
/// Thread-safe (adapter grains record from their own turns; the publisher reads).
/// </summary>
public sealed class AdapterTraffic(TimeProvider time)
{
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _adapters = new(StringComparer.Ordinal);

    public void Record(string adapterId, int device)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (!_adapters.TryGetValue(adapterId, out var entry) || entry.Device != device)
                _adapters[adapterId] = entry = new Entry(device, now);
            entry.Requests.Enqueue(now);
        }
    }

    public void Forget(string adapterId)
    {
        lock (_lock)
            _adapters.Remove(adapterId);
    }

    /// <summary>
    /// Requests per second of each adapter recorded here: those within the window, over the window or, for an
    /// adapter that arrived less than a window ago, over the time since it arrived (at least a second).
    /// </summary>
    public IReadOnlyList<AdapterRate> Rates()
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            var rates = new List<AdapterRate>(_adapters.Count);
            foreach (var (id, entry) in _adapters)
            {
                while (entry.Requests.TryPeek(out var at) && now - at > Window)
                    entry.Requests.Dequeue();
                var span = TimeSpan.FromTicks(Math.Clamp((now - entry.Since).Ticks, TimeSpan.TicksPerSecond, Window.Ticks));
                rates.Add(new AdapterRate(id, entry.Device, entry.Requests.Count / span.TotalSeconds));
            }
            return rates;
        }
    }

    private sealed class Entry(int device, DateTimeOffset since)
    {
        public int Device { get; } = device;
        public DateTimeOffset Since { get; } = since;
        public Queue<DateTimeOffset> Requests { get; } = new();
    }
}
