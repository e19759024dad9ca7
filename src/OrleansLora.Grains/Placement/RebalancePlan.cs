using OrleansLora.Devices;

namespace OrleansLora.Grains.Placement;

/// <summary>
/// Which adapter, if any, an overloaded silo hands to an underloaded one, from measured request load. A pure
/// function of the published loads and this silo's per-adapter rates, so placement benchmarks and tests run it
/// without a cluster.
/// </summary>
public static class RebalancePlan
{
    /// <summary>
    /// A move when <paramref name="self"/>'s request load per device exceeds the mean over the worker silos by more
    /// than <paramref name="threshold"/> (hysteresis: a silo near the mean never moves anything) and the least loaded
    /// other silo is below the mean (a worker that just joined, at zero, is). The adapter moved is the one whose
    /// rate would even the two out best; an adapter so hot that moving it leaves them at least as far apart stays.
    /// </summary>
    public static RebalanceMove? Choose(SiloAddress self, IReadOnlyList<DeviceLoad> cluster, IReadOnlyList<AdapterRate> mine, double threshold)
    {
        var silos = cluster.GroupBy(l => l.Silo)
            .Select(g => (Silo: g.Key, Devices: g.Count(), Load: g.Sum(l => l.RequestsPerSecond) / g.Count(), Adapters: g.Sum(l => l.CachedAdapters.Count)))
            .ToList();
        if (silos.Count < 2 || !silos.Any(s => s.Silo.Equals(self)))
            return null;
        double mean = silos.Average(s => s.Load);
        var me = silos.First(s => s.Silo.Equals(self));
        if (mean <= 0 || me.Load <= mean * (1 + threshold))
            return null;
        var target = silos.Where(s => !s.Silo.Equals(self))
            .OrderBy(s => s.Load).ThenBy(s => s.Adapters).ThenBy(s => s.Silo.ToParsableString(), StringComparer.Ordinal).First();
        if (target.Load >= mean)
            return null;
        // In requests per second of the silo's whole load: a move takes r off this silo (r / my devices per
        // device) and puts it on the target (r / its devices per device).
        double gapPerDevice = me.Load - target.Load;
        double weight = 1.0 / me.Devices + 1.0 / target.Devices;
        double best = gapPerDevice / weight; // the rate that would equalise the two
        var pick = mine.Where(a => a.RequestsPerSecond > 0 && a.RequestsPerSecond * weight < gapPerDevice * 2)
            .OrderBy(a => Math.Abs(a.RequestsPerSecond - best)).ThenBy(a => a.AdapterId, StringComparer.Ordinal).FirstOrDefault();
        return pick is null ? null : new RebalanceMove(pick.AdapterId, target.Silo, pick.RequestsPerSecond);
    }
}
