namespace OrleansLora.Adapters;

/// <summary>
/// Where an adapter's weights are: <see cref="Source"/> is a directory relative to the silos' adapter
/// store root (default: the adapter id). Weights never travel in grain messages.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record AdapterRegistration(
    [property: Id(0)] string AdapterId,
    [property: Id(1)] string? Source = null);
