using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansLora.Adapters;
using OrleansLora.Devices;
using OrleansLora.Grains.Devices;

namespace OrleansLora.Grains.Placement;

/// <summary>
/// Runs after each load publish on a worker silo and asks at most one adapter to migrate, at its next idle
/// moment, to a silo named by a placement hint:
/// <list type="bullet">
/// <item>shedding: a device saturated (full batch, requests waiting) for <see cref="WorkerOptions.ShedAfter"/> hands, of its
/// adapters with queued work (two at least), the one with the least to a silo with a free slot and nothing waiting;</item>
/// <item>rebalancing: a silo whose measured request load is more than <see cref="WorkerOptions.RebalanceThreshold"/> over
/// the mean hands the adapter that evens things out best to the least loaded silo (<see cref="RebalancePlan"/>), at
/// most once per <see cref="WorkerOptions.RebalanceCooldown"/>, so the figures it decides from have settled.</item>
/// </list>
/// A worker that joins is at zero load, below the mean, so existing active adapters move to it.
/// </summary>
internal sealed partial class AdapterRebalancer(
    DeviceLoadView view,
    IGrainFactory grains,
    ILocalSiloDetails localSilo,
    IOptions<WorkerOptions> worker,
    TimeProvider time,
    ILogger<AdapterRebalancer> logger)
{
    private readonly Dictionary<int, DateTimeOffset> _saturatedSince = [];
    private DateTimeOffset _lastMove = DateTimeOffset.MinValue;

    /// <param name="mine">This silo's devices, as just published.</param>
    /// <param name="waiting">Per device, requests waiting by adapter.</param>
    /// <param name="rates">This silo's adapters' measured request rates.</param>
    public async Task Tick(IReadOnlyList<DeviceLoad> mine, IReadOnlyList<IReadOnlyDictionary<string, int>> waiting, IReadOnlyList<AdapterRate> rates)
    {
        var now = time.GetUtcNow();
        var options = worker.Value;
        string reason = "shed";
        var move = Shed(mine, waiting, now);
        if (move is null && options.Rebalance && now - _lastMove >= options.RebalanceCooldown)
        {
            reason = "rebalance";
            move = RebalancePlan.Choose(localSilo.SiloAddress, view.Fresh(), rates, options.RebalanceThreshold);
        }
        if (move is null)
            return;
        _lastMove = now;
        LogMoving(logger, move.AdapterId, move.RequestsPerSecond, move.Target, reason);
        await grains.GetGrain<IAdapterGrain>(move.AdapterId).Move(move.Target);
    }

    private RebalanceMove? Shed(IReadOnlyList<DeviceLoad> mine, IReadOnlyList<IReadOnlyDictionary<string, int>> waiting, DateTimeOffset now)
    {
        foreach (var load in mine)
        {
            int i = load.DeviceIndex;
            // Adapters with queued work: only moving one of those relieves the device, and one of two at least
            // must stay. (Pinned or not: traffic, not pins, decides residency.)
            var queued = waiting[i].Where(kv => kv.Value > 0 && AdapterIds.IsValid(kv.Key)).ToList();
            bool saturated = load.WaitingRequests > 0 && load.RunningSequences >= load.MaxBatchSize && queued.Count >= 2;
            if (!saturated)
            {
                _saturatedSince.Remove(i);
                continue;
            }
            if (!_saturatedSince.TryGetValue(i, out var since))
                _saturatedSince[i] = since = now;
            if (now - since < worker.Value.ShedAfter)
                continue;
            var target = view.Fresh().Where(o => !o.Silo.Equals(localSilo.SiloAddress) && o.FreeAdapterSlots > 0 && o.WaitingRequests == 0)
                .OrderBy(o => o.RequestsPerSecond).ThenByDescending(o => o.FreeAdapterSlots).FirstOrDefault();
            if (target is null)
                continue;
            // The one with the least queued work, since its requests finish here before it migrates.
            string victim = queued.OrderBy(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).First().Key;
            _saturatedSince.Remove(i);
            return new RebalanceMove(victim, target.Silo, 0);
        }
        return null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Moving adapter {AdapterId} ({Rate:F2} requests/s) to {Target} to {Reason} load")]
    private static partial void LogMoving(ILogger logger, string adapterId, double rate, SiloAddress target, string reason);
}
