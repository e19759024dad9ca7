namespace OrleansLora.Adapters;

/// <summary>
/// Where an adapter's weights are: <see cref="Source"/> is a directory relative to the silos' adapter
/// store root (default: the adapter id). Weights never travel in grain messages. <see cref="Pinned"/>: hold a
/// device slot while active; otherwise traffic decides (the engine swaps it into a slot when its requests run).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record AdapterRegistration(
    [property: Id(0)] string AdapterId,
    [property: Id(1)] string? Source = null,
    [property: Id(2)] bool Pinned = false);
