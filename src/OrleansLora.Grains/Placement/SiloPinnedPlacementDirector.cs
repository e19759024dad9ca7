using Orleans.Runtime.Placement;
using OrleansLora.Devices;

namespace OrleansLora.Grains.Placement;

/// <summary>
/// Reads the silo out of the grain key (<c>"{siloAddress}|{index}"</c> for GPU grains, <c>"{siloAddress}"</c> for
/// per-silo grains); refuses when that silo is not an active member.
/// </summary>
public sealed class SiloPinnedPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        string key = target.GrainIdentity.Key.ToString()!;
        if (!DeviceKey.TryParse(key, out var silo, out _) && !TryParseSilo(key, out silo))
            throw new ArgumentException($"grain key \"{key}\" is neither \"{{siloAddress}}|{{deviceIndex}}\" nor \"{{siloAddress}}\".");
        if (!context.GetCompatibleSilos(target).Contains(silo))
            throw new SiloUnavailableException($"silo {silo} that owns grain \"{key}\" is not an active member of the cluster.");
        return Task.FromResult(silo);
    }

    private static bool TryParseSilo(string key, out SiloAddress silo)
    {
        try
        {
            silo = SiloAddress.FromParsableString(key);
            return true;
        }
        catch (FormatException)
        {
            silo = null!;
            return false;
        }
    }
}
