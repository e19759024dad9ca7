using System.Net;
using OrleansLora.Devices;
using OrleansLora.Grains.Placement;

namespace OrleansLora.PlacementBench;

/// <summary>
/// A fluid model of a cluster under Zipf traffic, driving the real <see cref="DeviceLoadView"/> (placement) and
/// <see cref="RebalancePlan"/> (rebalancing) on a simulated clock. Each adapter's request rate is exact (what
/// <see cref="AdapterTraffic"/> measures once its window is full); adapters activate in the order of their first
/// request (drawn by rate), one every <see cref="ActivationEvery"/>; workers publish every second; a migration
/// completes by the next step (its idle moment). One device per worker, 16 pinnable slots.
/// </summary>
internal sealed class Simulation(int workers, int adapters, double zipf, int seed, PlacementPolicy policy)
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan ActivationEvery = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan Cooldown = TimeSpan.FromSeconds(5);
    private const double Threshold = 0.15;
    private const int Pinnable = 16;

    public SimulationResult Run(TimeSpan steady, TimeSpan afterJoin)
    {
        var rng = new Random(seed);
        // Zipf weights over a random permutation of the adapter ids.
        var ids = Enumerable.Range(0, adapters).Select(i => $"adapter-{i:D2}").OrderBy(_ => rng.Next()).ToArray();
        var rate = ids.Select((id, rank) => (id, w: 1.0 / Math.Pow(rank + 1, zipf))).ToDictionary(x => x.id, x => x.w);
        double total = rate.Values.Sum();
        foreach (var id in ids)
            rate[id] = 100 * rate[id] / total; // 100 requests/s in all
        var order = FirstRequestOrder(rate, rng);

        var clock = new ManualClock();
        var view = new DeviceLoadView(clock);
        var silos = Enumerable.Range(0, workers).Select(Silo).ToList();
        var placed = silos.ToDictionary(s => s, _ => new HashSet<string>(StringComparer.Ordinal));
        var lastMove = new Dictionary<SiloAddress, DateTimeOffset>();
        var pending = new List<RebalanceMove>();
        int next = 0, moves = 0, movedToJoined = 0;
        double steadyRatio = 0;
        SiloAddress? joined = null;
        var sinceActivation = TimeSpan.Zero;

        for (var t = TimeSpan.Zero; t <= steady + afterJoin; t += Step)
        {
            if (t == steady)
            {
                steadyRatio = BusiestOverMean(placed, rate);
                joined = Silo(workers);
                silos.Add(joined);
                placed[joined] = new HashSet<string>(StringComparer.Ordinal);
            }
            // Migrations asked for at the last publish complete now, where the hint points.
            foreach (var move in pending)
            {
                var from = placed.First(p => p.Value.Contains(move.AdapterId)).Key;
                placed[from].Remove(move.AdapterId);
                placed[move.Target].Add(move.AdapterId);
                view.Reserve(move.AdapterId, move.Target);
                moves++;
                if (move.Target.Equals(joined))
                    movedToJoined++;
            }
            pending.Clear();
            if (t.Ticks % TimeSpan.TicksPerSecond == 0)
            {
                foreach (var silo in silos)
                    view.Update(silo, [Load(silo, placed[silo], rate)]);
                if (policy.Rebalances)
                {
                    foreach (var silo in silos)
                    {
                        var now = clock.GetUtcNow();
                        if (lastMove.TryGetValue(silo, out var last) && now - last < Cooldown)
                            continue;
                        var mine = placed[silo].Select(id => new AdapterRate(id, 0, rate[id])).ToList();
                        if (RebalancePlan.Choose(silo, view.Fresh(), mine, Threshold) is { } move && !pending.Any(p => p.AdapterId == move.AdapterId))
                        {
                            pending.Add(move);
                            lastMove[silo] = now;
                        }
                    }
                }
            }
            sinceActivation += Step;
            while (next < order.Count && sinceActivation >= ActivationEvery)
            {
                sinceActivation -= ActivationEvery;
                var silo = view.Choose(order[next], silos) ?? throw new InvalidOperationException("no silo published");
                placed[silo].Add(order[next++]);
            }
            clock.Advance(Step);
        }
        return new SimulationResult(steadyRatio, BusiestOverMean(placed, rate), moves, movedToJoined);
    }

    private DeviceLoad Load(SiloAddress silo, HashSet<string> adapterIds, Dictionary<string, double> rate) => new()
    {
        Silo = silo,
        MaxLoras = Pinnable + 1,
        AdapterSlots = Pinnable,
        PinnedAdapters = Math.Min(Pinnable, adapterIds.Count),
        OccupiedSlots = Math.Min(Pinnable + 1, adapterIds.Count),
        MaxBatchSize = 8,
        CachedAdapters = [.. adapterIds],
        RequestsPerSecond = policy.PublishesLoad ? adapterIds.Sum(id => rate[id]) : 0,
    };

    /// <summary>Adapters in the order their first request arrives: drawn without replacement, weighted by rate.</summary>
    private static List<string> FirstRequestOrder(Dictionary<string, double> rate, Random rng)
    {
        // Exponential clocks: the first arrival of a Poisson stream of rate r comes after Exp(r).
        return [.. rate.OrderBy(kv => -Math.Log(1 - rng.NextDouble()) / kv.Value).Select(kv => kv.Key)];
    }

    private static double BusiestOverMean(Dictionary<SiloAddress, HashSet<string>> placed, Dictionary<string, double> rate)
    {
        var loads = placed.Values.Select(ids => ids.Sum(id => rate[id])).ToList();
        return loads.Max() / loads.Average();
    }

    private static SiloAddress Silo(int i) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111 + i), 1);
}
