namespace OrleansLora.PlacementBench;

/// <summary>
/// What placement knows and does. <c>count</c>: devices publish no request load and nothing moves once placed (the
/// placement before issue 13: free slots, then queued work, which this fluid model does not have). <c>load</c>: the
/// published request load steers new activations and <see cref="Grains.Placement.RebalancePlan"/> moves adapters.
/// <c>load-placement</c>: the published load steers new activations, nothing moves (what placement alone does).
/// </summary>
internal sealed record PlacementPolicy(string Name, bool PublishesLoad, bool Rebalances)
{
    public static PlacementPolicy Count { get; } = new("count", false, false);
    public static PlacementPolicy Load { get; } = new("load", true, true);
    public static PlacementPolicy LoadPlacementOnly { get; } = new("load-placement", true, false);
}
