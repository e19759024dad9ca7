using Orleans.Placement;

namespace OrleansLora.Grains.Placement;

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class AdapterPlacementAttribute() : PlacementAttribute(AdapterPlacement.Instance);
