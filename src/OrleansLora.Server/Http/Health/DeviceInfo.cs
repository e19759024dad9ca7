namespace OrleansLora.Server.Http.Health;

/// <summary>
/// A device as its silo last published it. Slots: <c>max_loras</c> = <c>adapter_slots</c> (pinnable) + <c>swap_slots</c>;
/// <c>occupied_slots</c> hold an adapter now (pinned or swapped in by traffic), <c>pinned_adapters</c> hold a pin.
/// <c>kind</c> ("cpu" or "cuda"), <c>name</c> and memory: on the CPU, total = what the process may use and used = what
/// the engine holds (weights, KV cache, adapter slot tables); on a GPU, the device's own figures.
/// </summary>
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
    DateTimeOffset PublishedAt,
    int MaxLoras,
    int SwapSlots,
    int OccupiedSlots,
    double RequestsPerSecond,
    string Kind,
    string Name,
    long MemoryTotalBytes,
    long MemoryUsedBytes);
