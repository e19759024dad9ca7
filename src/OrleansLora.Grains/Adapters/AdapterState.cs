using OrleansLora.Adapters;

namespace OrleansLora.Grains.Adapters;

/// <summary>What an adapter grain keeps in grain storage (Redis in cluster mode, memory embedded).</summary>
[GenerateSerializer]
public sealed class AdapterState
{
    [Id(0)] public bool Registered { get; set; }
    [Id(1)] public string Source { get; set; } = "";
    [Id(2)] public AdapterInfo? Info { get; set; }
    [Id(3)] public DateTimeOffset CreatedAt { get; set; }
    [Id(4)] public AdapterCounters Counters { get; set; } = new();
    /// <summary>Registered with <c>pinned</c>: holds a device slot while active.</summary>
    [Id(5)] public bool Pinned { get; set; }
}
