using Microsoft.Extensions.Logging;
using OrleansLora.Adapters;
using OrleansLora.Devices;

namespace OrleansLora.Grains.Placement;

/// <summary>
/// Holds the last load each device published (in memory: after a failover it refills within a publish
/// period) and chooses silos for adapter activations one at a time, counting its own recent choices as
/// reservations until the chosen silo's next publish shows the adapter, so a burst of activations spreads.
/// </summary>
public sealed partial class ClusterLoadGrain(ILogger<ClusterLoadGrain> logger) : Grain, IClusterLoadGrain
{
    private static readonly TimeSpan Fresh = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ReservationLifetime = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan ShedLifetime = TimeSpan.FromMinutes(2);
    private readonly Dictionary<string, (DeviceLoad Load, DateTimeOffset Received)> _loads = new(StringComparer.Ordinal);
    private readonly Dictionary<SiloAddress, List<(string AdapterId, DateTimeOffset Expires)>> _reservations = [];
    private readonly Dictionary<string, (SiloAddress Silo, DateTimeOffset Expires)> _shed = new(StringComparer.Ordinal);

    public Task Publish(DeviceLoad load)
    {
        // Freshness by this grain's clock: silos' clocks may disagree.
        _loads[load.Key] = (load, DateTimeOffset.UtcNow);
        if (_reservations.TryGetValue(load.Silo, out var list))
            list.RemoveAll(r => load.CachedAdapters.Contains(r.AdapterId) || r.Expires < DateTimeOffset.UtcNow);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<DeviceLoad>> GetLoads()
    {
        var now = DateTimeOffset.UtcNow;
        return Task.FromResult<IReadOnlyList<DeviceLoad>>(_loads.Values.Where(l => now - l.Received < Fresh).Select(l => l.Load).OrderBy(l => l.Key, StringComparer.Ordinal).ToList());
    }

    public Task NoteShed(string adapterId, SiloAddress silo)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var expired in _shed.Where(e => e.Value.Expires < now).Select(e => e.Key).ToList())
            _shed.Remove(expired);
        _shed[adapterId] = (silo, now + ShedLifetime);
        return Task.CompletedTask;
    }

    public Task<SiloAddress?> ChooseSilo(string adapterId, SiloAddress[] candidates)
    {
        var now = DateTimeOffset.UtcNow;
        bool isBase = adapterId == AdapterIds.BaseModel;
        var shedFrom = _shed.TryGetValue(adapterId, out var shed) && shed.Expires > now ? shed.Silo : null;
        var silos = _loads.Values
            .Where(l => now - l.Received < Fresh && candidates.Contains(l.Load.Silo))
            .Select(l => l.Load)
            .GroupBy(l => l.Silo)
            .Select(g =>
            {
                var reserved = _reservations.TryGetValue(g.Key, out var r) ? r.Count(x => x.Expires > now) : 0;
                return new
                {
                    Silo = g.Key,
                    Free = g.Sum(l => l.FreeAdapterSlots) - reserved,
                    Busy = g.Sum(l => l.WaitingRequests + l.RunningSequences) / (double)Math.Max(1, g.Sum(l => l.MaxBatchSize)),
                    Cached = g.Any(l => l.CachedAdapters.Contains(adapterId)),
                    ShedHere = g.Key.Equals(shedFrom),
                    Tiebreak = StableHash(adapterId, g.Key),
                };
            })
            .ToList();
        if (silos.Count == 0)
        {
            // The placement director retries every 200 ms for a while; say what was known (at Debug, built
            // only then), so a failed placement can be explained.
            if (logger.IsEnabled(LogLevel.Debug))
                LogNoCandidate(logger, adapterId, string.Join(", ", candidates.Select(c => c.ToString())),
                    string.Join(", ", _loads.Values.Select(l => $"{l.Load.Key} ({(now - l.Received).TotalSeconds:F1} s old)")));
            return Task.FromResult<SiloAddress?>(null);
        }
        var ranked = isBase
            ? silos.OrderBy(s => s.Busy).ThenBy(s => s.Tiebreak)
            : silos.OrderByDescending(s => s.Free > 0) // a silo with a slot left first
                .ThenBy(s => s.ShedHere) // not the silo that just shed it: it was saturated
                .ThenByDescending(s => s.Cached && s.Free > 0) // then one that already holds the weights
                .ThenByDescending(s => s.Free)
                .ThenBy(s => s.Busy)
                .ThenBy(s => s.Tiebreak);
        var best = ranked.First();
        if (!isBase)
        {
            if (!_reservations.TryGetValue(best.Silo, out var list))
                _reservations[best.Silo] = list = [];
            list.RemoveAll(r => r.Expires < now || r.AdapterId == adapterId);
            list.Add((adapterId, now + ReservationLifetime));
        }
        return Task.FromResult<SiloAddress?>(best.Silo);
    }

    private static uint StableHash(string adapterId, SiloAddress silo)
    {
        // FNV-1a over id and silo: equal scores spread across silos the same way on every run.
        uint h = 2166136261;
        foreach (char c in adapterId + "|" + silo.ToParsableString())
            h = (h ^ c) * 16777619;
        return h;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "No device load fresher than 5 s for adapter {AdapterId}; candidate silos [{Candidates}], loads held [{Loads}]")]
    private static partial void LogNoCandidate(ILogger logger, string adapterId, string candidates, string loads);
}
