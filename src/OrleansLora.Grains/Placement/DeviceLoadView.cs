using OrleansLora.Adapters;
using OrleansLora.Devices;

namespace OrleansLora.Grains.Placement;

/// <summary>
/// This silo's view of every device in the cluster, as each worker silo's <see cref="DeviceLoadPublisher"/> last
/// sent it: placement decides from it synchronously, with no grain call on the activation path and no grain that
/// every device must reach. A silo's loads count for <see cref="StaleAfter"/> by this silo's clock (silos' clocks
/// may disagree), and a silo that left the membership is dropped at the next publish.
/// Each silo counts its own recent placements as reservations until the chosen silo's next publish shows the
/// adapter, so a burst of activations through one silo spreads. Bursts through several silos at the same moment
/// may overshoot a device's pinnable slots; that costs a pin, not service: the adapter runs from the swap slots.
/// Thread-safe: placement directors run concurrently.
/// </summary>
public sealed class DeviceLoadView(TimeProvider time)
{
    /// <summary>How long a published load counts: a few missed publishes (the period is at most 1 s).</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan ReservationLifetime = TimeSpan.FromSeconds(15);
    private readonly Lock _lock = new();
    private readonly Dictionary<SiloAddress, (IReadOnlyList<DeviceLoad> Loads, DateTimeOffset Received)> _silos = [];
    private readonly Dictionary<SiloAddress, List<(string AdapterId, DateTimeOffset Expires)>> _reservations = [];

    /// <summary>
    /// Replaces what <paramref name="silo"/> published before (an empty list: it has no devices), unless what is held
    /// is a later publish of that silo (<see cref="DeviceLoad.Sequence"/>) and still fresh: a silo publishes on its
    /// period and again at once when a pin changes, and the periodic one may arrive second. A reservation there
    /// ends when the silo shows the adapter in memory or names it abandoned. (An abandonment is named for a few
    /// seconds, so it also ends a reservation made for the same id again in that time: a brief overshoot of the
    /// silo's slots at worst, as a burst through several silos may cause.)
    /// </summary>
    public void Update(SiloAddress silo, IReadOnlyList<DeviceLoad> loads)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (_silos.TryGetValue(silo, out var held) && held.Loads.Count > 0 && loads.Count > 0
                && loads[0].Sequence < held.Loads[0].Sequence && now - held.Received < StaleAfter)
                return;
            _silos[silo] = (loads, now);
            if (_reservations.TryGetValue(silo, out var list))
                list.RemoveAll(r => r.Expires < now || loads.Any(l => l.CachedAdapters.Contains(r.AdapterId) || l.AbandonedAdapters.Contains(r.AdapterId)));
        }
    }

    /// <summary>Forgets silos that are no longer active members.</summary>
    public void Retain(IReadOnlySet<SiloAddress> members)
    {
        lock (_lock)
        {
            foreach (var gone in _silos.Keys.Where(s => !members.Contains(s)).ToList())
            {
                _silos.Remove(gone);
                _reservations.Remove(gone);
            }
        }
    }

    /// <summary>The loads received within <see cref="StaleAfter"/>, ordered by device key.</summary>
    public IReadOnlyList<DeviceLoad> Fresh()
    {
        var now = time.GetUtcNow();
        lock (_lock)
            return FreshLocked(now).OrderBy(l => l.Key, StringComparer.Ordinal).ToList();
    }

    /// <summary>Whether <paramref name="silo"/> published devices recently.</summary>
    public bool HasDevices(SiloAddress silo)
    {
        var now = time.GetUtcNow();
        lock (_lock)
            return _silos.TryGetValue(silo, out var s) && now - s.Received < StaleAfter && s.Loads.Count > 0;
    }

    /// <summary>Counts <paramref name="adapterId"/> against <paramref name="silo"/>'s free slots until its next publish shows it.</summary>
    public void Reserve(string adapterId, SiloAddress silo)
    {
        var now = time.GetUtcNow();
        lock (_lock)
            ReserveLocked(adapterId, silo, now);
    }

    /// <summary>
    /// The silo for a new activation of <paramref name="adapterId"/> among <paramref name="candidates"/>, or null
    /// when none of them published devices recently. An adapter goes back to the silo that holds its pin (an
    /// activation the runtime re-creates after a silo left keeps its pin: see <see cref="HeldPins"/>), else to a silo
    /// with a free pinnable slot, one that
    /// already holds its weights first, then to the least request load per device (with the adapters reserved
    /// there counted at the cluster's mean rate per adapter), then the most free slots, then the least queued work.
    /// The base model goes to the least busy silo.
    /// </summary>
    public SiloAddress? Choose(string adapterId, IReadOnlyCollection<SiloAddress> candidates)
    {
        var now = time.GetUtcNow();
        bool isBase = adapterId == AdapterIds.BaseModel;
        lock (_lock)
        {
            var fresh = FreshLocked(now).ToList();
            int adapters = fresh.Sum(l => l.CachedAdapters.Count);
            double perAdapter = adapters == 0 ? 0 : fresh.Sum(l => l.RequestsPerSecond) / adapters;
            var silos = fresh.Where(l => candidates.Contains(l.Silo)).GroupBy(l => l.Silo).Select(g =>
            {
                int reserved = _reservations.TryGetValue(g.Key, out var r) ? r.Count(x => x.Expires > now) : 0;
                int devices = g.Count();
                return new
                {
                    Silo = g.Key,
                    Free = g.Sum(l => l.FreeAdapterSlots) - reserved,
                    Load = (g.Sum(l => l.RequestsPerSecond) + reserved * perAdapter) / devices,
                    Busy = g.Sum(l => l.WaitingRequests + l.RunningSequences) / (double)Math.Max(1, g.Sum(l => l.MaxBatchSize)),
                    Cached = g.Any(l => l.CachedAdapters.Contains(adapterId)),
                    Pinned = g.Any(l => l.PinnedAdapterIds.Contains(adapterId)),
                    Tiebreak = StableHash(adapterId, g.Key),
                };
            }).ToList();
            if (silos.Count == 0)
                return null;
            var ranked = isBase
                ? silos.OrderBy(s => s.Busy).ThenBy(s => s.Tiebreak)
                : silos.OrderByDescending(s => s.Pinned) // the silo still holding its pin (its activation was lost, not its slot)
                    .ThenByDescending(s => s.Free > 0) // a silo with a slot left first
                    .ThenByDescending(s => s.Cached && s.Free > 0) // then one that already holds the weights
                    .ThenBy(s => s.Load)
                    .ThenByDescending(s => s.Free)
                    .ThenBy(s => s.Busy)
                    .ThenBy(s => s.Tiebreak);
            var best = ranked.First();
            if (!isBase && !best.Pinned) // a held pin takes no new slot
                ReserveLocked(adapterId, best.Silo, now);
            return best.Silo;
        }
    }

    private IEnumerable<DeviceLoad> FreshLocked(DateTimeOffset now) =>
        _silos.Values.Where(s => now - s.Received < StaleAfter).SelectMany(s => s.Loads);

    private void ReserveLocked(string adapterId, SiloAddress silo, DateTimeOffset now)
    {
        if (!_reservations.TryGetValue(silo, out var list))
            _reservations[silo] = list = [];
        list.RemoveAll(r => r.Expires < now || r.AdapterId == adapterId);
        list.Add((adapterId, now + ReservationLifetime));
    }

    private static uint StableHash(string adapterId, SiloAddress silo)
    {
        // FNV-1a over id and silo: equal scores spread across silos the same way on every run.
        uint h = 2166136261;
        foreach (char c in adapterId + "|" + silo.ToParsableString())
            h = (h ^ c) * 16777619;
        return h;
    }
}
