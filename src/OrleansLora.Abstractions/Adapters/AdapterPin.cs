namespace OrleansLora.Adapters;

/// <summary>The outcome of pinning an adapter on a device: its configuration and whether it holds a device slot.</summary>
[GenerateSerializer, Immutable]
public sealed record AdapterPin([property: Id(0)] AdapterInfo Info, [property: Id(1)] bool Pinned);
