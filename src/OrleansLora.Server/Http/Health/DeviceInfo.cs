namespace OrleansLora.Server.Http.Health;

/// <summary>A device as its GPU grain last published it.</summary>
public sealed record DeviceInfo(
    string Key,
    string Silo,
    int DeviceIndex,
    int AdapterSlots,
    int PinnedAdapters,
    int RunningSequences,
    int WaitingRequests,
    int MaxBatchSize,
    double TokensPerSecond,
    int CachedAdapters,
    DateTimeOffset PublishedAt);
