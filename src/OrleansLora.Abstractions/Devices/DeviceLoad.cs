namespace OrleansLora.Devices;

/// <summary>What a GPU grain publishes about its device every second.</summary>
[GenerateSerializer, Immutable]
public sealed record DeviceLoad
{
    [Id(0)] public required SiloAddress Silo { get; init; }
    [Id(1)] public int DeviceIndex { get; init; }
    [Id(2)] public int AdapterSlots { get; init; }
    [Id(3)] public int PinnedAdapters { get; init; }
    [Id(4)] public int RunningSequences { get; init; }
    [Id(5)] public int WaitingRequests { get; init; }
    [Id(6)] public int MaxBatchSize { get; init; }
    [Id(7)] public double TokensPerSecond { get; init; }
    [Id(8)] public double StepMilliseconds { get; init; }
    [Id(9)] public long AdapterLoads { get; init; }
    [Id(10)] public long AdapterEvictions { get; init; }
    /// <summary>Adapters this device's engine holds in memory (pinned or cached), for placement affinity.</summary>
    [Id(11)] public IReadOnlyList<string> CachedAdapters { get; init; } = [];
    [Id(12)] public DateTimeOffset PublishedAt { get; init; }
    [Id(13)] public string BaseModel { get; init; } = "";

    public string Key => DeviceKey.Format(Silo, DeviceIndex);
    public int FreeAdapterSlots => Math.Max(0, AdapterSlots - PinnedAdapters);
}
