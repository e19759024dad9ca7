namespace OrleansLora.Grains.Placement;

/// <summary>
/// The adapters whose activation on this silo ended in the last <see cref="Lifetime"/> without taking a device, for
/// the load publisher to name (<see cref="Devices.DeviceLoad.AbandonedAdapters"/>): the silo that placed one of them
/// here reserved one of this silo's free slots for it, and holds that reservation until it hears. Bounded: past
/// <see cref="Capacity"/> (a flood of unknown ids) the oldest go, and their reservations simply expire.
/// Thread-safe: grains on any scheduler add, the publisher reads.
/// </summary>
public sealed class AbandonedPlacements(TimeProvider time)
{
    public const int Capacity = 256;

    /// <summary>Long enough for a few publishes to carry it (the period is at most 1 s).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(5);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, DateTimeOffset> _ids = new(StringComparer.Ordinal);

    public void Add(string adapterId)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            _ids[adapterId] = now;
            if (_ids.Count > Capacity)
                _ids.Remove(_ids.MinBy(p => p.Value).Key);
        }
    }

    /// <summary>The ids added within <see cref="Lifetime"/>; older ones are dropped.</summary>
    public IReadOnlyList<string> Recent()
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            foreach (var old in _ids.Where(p => now - p.Value > Lifetime).Select(p => p.Key).ToList())
                _ids.Remove(old);
            return _ids.Keys.ToList();
        }
    }
}
