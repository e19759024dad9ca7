namespace OrleansLora.Adapters;

/// <summary>An adapter as the cluster sees it: registration, configuration, where it is pinned and its counters.</summary>
[GenerateSerializer, Immutable]
public sealed record AdapterDescription
{
    [Id(0)] public required string AdapterId { get; init; }
    [Id(1)] public required string Source { get; init; }
    [Id(2)] public AdapterInfo? Info { get; init; }
    [Id(3)] public DateTimeOffset CreatedAt { get; init; }
    /// <summary>The device key (<c>"{silo}|{device}"</c>) holding the weights while active; null when not active.</summary>
    [Id(4)] public string? Device { get; init; }
    [Id(5)] public string? Silo { get; init; }
    /// <summary>"gpu" when pinned in a device slot, "host" when active but not pinned (traffic swaps it into a slot), else "disk" (not active anywhere).</summary>
    [Id(6)] public string Residency { get; init; } = "disk";
    [Id(7)] public AdapterCounters Counters { get; init; } = new();
    /// <summary>Whether it was registered to hold a device slot while active (else traffic decides its residency).</summary>
    [Id(8)] public bool Pinned { get; init; }
}
