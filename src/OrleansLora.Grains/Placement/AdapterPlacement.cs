namespace OrleansLora.Grains.Placement;

/// <summary>
/// Places adapter grains on silos with devices only, by free adapter slots and measured request load, preferring
/// silos whose engines already hold the adapter in memory. The choice is made by <see cref="AdapterPlacementDirector"/>
/// from the silo-local <see cref="DeviceLoadView"/>.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class AdapterPlacement : PlacementStrategy
{
    public static AdapterPlacement Instance { get; } = new();
}
