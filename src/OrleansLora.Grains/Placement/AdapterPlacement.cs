namespace OrleansLora.Grains.Placement;

/// <summary>
/// Places adapter grains on silos with devices only, by free adapter slots and queued work, preferring
/// silos whose engines already hold the adapter in memory. The choice is made by <see cref="ClusterLoadGrain"/>.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class AdapterPlacement : PlacementStrategy
{
    public static AdapterPlacement Instance { get; } = new();
}
