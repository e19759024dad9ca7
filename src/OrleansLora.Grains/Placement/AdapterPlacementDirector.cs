using Microsoft.Extensions.Logging;
using Orleans.Runtime.Placement;
using OrleansLora.Errors;

namespace OrleansLora.Grains.Placement;

/// <summary>
/// Places adapter grains from this silo's <see cref="DeviceLoadView"/>, synchronously: no grain call, no retry.
/// A placement hint (set by rebalancing and shedding when they migrate an adapter) is followed when it names a
/// silo with devices. With no worker known yet the activation fails at once with
/// <see cref="NoWorkerCapacityException"/> (503 at the gateway), which the caller may retry.
/// </summary>
public sealed partial class AdapterPlacementDirector(DeviceLoadView view, ILogger<AdapterPlacementDirector> logger) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        string adapterId = target.GrainIdentity.Key.ToString()!;
        var candidates = context.GetCompatibleSilos(target);
        if (target.RequestContextData is { } data && data.TryGetValue(IPlacementDirector.PlacementHintKey, out var hinted)
            && hinted is SiloAddress hint && candidates.Contains(hint) && view.HasDevices(hint))
        {
            view.Reserve(adapterId, hint);
            LogPlaced(logger, adapterId, hint, "hint");
            return Task.FromResult(hint);
        }
        var chosen = view.Choose(adapterId, candidates);
        if (chosen is null)
        {
            if (logger.IsEnabled(LogLevel.Debug))
                LogNoCandidate(logger, adapterId, string.Join(", ", candidates.Select(c => c.ToString())), string.Join(", ", view.Fresh().Select(l => l.Key)));
            throw new NoWorkerCapacityException($"no worker silo can take adapter \"{adapterId}\": no silo with devices has published its load to {context.LocalSilo} within {DeviceLoadView.StaleAfter.TotalSeconds:0} s.");
        }
        LogPlaced(logger, adapterId, chosen, "load");
        return Task.FromResult(chosen);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Adapter {AdapterId} placed on {Silo} (by {Reason})")]
    private static partial void LogPlaced(ILogger logger, string adapterId, SiloAddress silo, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "No fresh device load for adapter {AdapterId}; candidate silos [{Candidates}], fresh devices [{Loads}]")]
    private static partial void LogNoCandidate(ILogger logger, string adapterId, string candidates, string loads);
}
