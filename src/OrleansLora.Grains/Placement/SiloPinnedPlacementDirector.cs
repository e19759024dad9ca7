using Orleans.Runtime.Placement;
using OrleansLora.Devices;

namespace OrleansLora.Grains.Placement;

/// <summary>Reads the silo out of the grain key; refuses when that silo is not an active member.</summary>
public sealed class SiloPinnedPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        string key = target.GrainIdentity.Key.ToString()!;
        if (!DeviceKey.TryParse(key, out var silo, out _))
            throw new ArgumentException($"grain key \"{key}\" is not \"{{siloAddress}}|{{deviceIndex}}\".");
        if (!context.GetCompatibleSilos(target).Contains(silo))
            throw new SiloUnavailableException($"silo {silo} that owns device \"{key}\" is not an active member of the cluster.");
        return Task.FromResult(silo);
    }
}
