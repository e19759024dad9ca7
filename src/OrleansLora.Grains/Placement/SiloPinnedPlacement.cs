namespace OrleansLora.Grains.Placement;

/// <summary>
/// Places a grain keyed <c>"{siloAddress}|{index}"</c> or <c>"{siloAddress}"</c> on exactly that silo (GPU grains:
/// a device belongs to one silo; <see cref="SiloLoadGrain"/>: one per silo).
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class SiloPinnedPlacement : PlacementStrategy
{
    public static SiloPinnedPlacement Instance { get; } = new();
}
