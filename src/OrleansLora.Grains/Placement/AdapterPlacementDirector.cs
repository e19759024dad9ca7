using Microsoft.Extensions.Logging;
using Orleans.Runtime.Placement;
using OrleansLora.Errors;
using OrleansLora.Grains;

namespace OrleansLora.Grains.Placement;

/// <summary>
/// Asks the cluster load grain for a silo. Right after start-up no GPU grain may have published yet,
/// so an empty answer is retried for a few seconds before the call fails with <see cref="NoWorkerCapacityException"/>.
/// </summary>
public sealed partial class AdapterPlacementDirector(IGrainFactory grains, ILogger<AdapterPlacementDirector> logger) : IPlacementDirector
{
    private static readonly TimeSpan WaitForWorkers = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Retry = TimeSpan.FromMilliseconds(200);

    public async Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        string adapterId = target.GrainIdentity.Key.ToString()!;
        var deadline = DateTime.UtcNow + WaitForWorkers;
        var load = grains.GetGrain<IClusterLoadGrain>(0);
        while (true)
        {
            var candidates = context.GetCompatibleSilos(target);
            var chosen = await load.ChooseSilo(adapterId, candidates);
            if (chosen is not null)
            {
                LogPlaced(logger, adapterId, chosen);
                return chosen;
            }
            if (DateTime.UtcNow >= deadline)
                throw new NoWorkerCapacityException($"no worker silo can take adapter \"{adapterId}\": no silo with devices is up, or all of their adapter slots are taken.");
            await Task.Delay(Retry);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Adapter {AdapterId} placed on {Silo}")]
    private static partial void LogPlaced(ILogger logger, string adapterId, SiloAddress silo);
}
