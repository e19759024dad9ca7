namespace OrleansLora.Engine.Generation;

/// <summary>A snapshot of the engine's state and counters.</summary>
public sealed record EngineStatistics(
    int RunningSequences,
    int WaitingRequests,
    int FreeKvSlots,
    int TotalKvSlots,
    long Steps,
    long GeneratedTokens,
    long PrefillTokens,
    double LastStepMilliseconds)
{
    /// <summary>Device adapter slots (MaxLoras).</summary>
    public int AdapterSlots { get; init; }
    public int AdapterSlotsUsed { get; init; }
    public int AdapterSlotsPinned { get; init; }
    public int RegisteredAdapters { get; init; }
    public long AdapterLoads { get; init; }
    public long AdapterEvictions { get; init; }
    public long AdapterHits { get; init; }
    /// <summary>Requests waiting for admission, by adapter id (base-model requests are not listed).</summary>
    public IReadOnlyDictionary<string, int> WaitingByAdapter { get; init; } = new Dictionary<string, int>();
    /// <summary>Generated tokens per second over the last few seconds.</summary>
    public double TokensPerSecond { get; init; }
}
