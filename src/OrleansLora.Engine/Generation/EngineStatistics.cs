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
    /// <summary>Adapters copied into a device slot.</summary>
    public long AdapterLoads { get; init; }
    /// <summary>Adapters evicted from a device slot to make room for another.</summary>
    public long AdapterEvictions { get; init; }
    /// <summary>Admissions that found their adapter already in a slot.</summary>
    public long AdapterHits { get; init; }
    /// <summary>Adapters prepared in host memory (at most MaxCpuLoras).</summary>
    public int HostCachedAdapters { get; init; }
    /// <summary>Slot loads served from the host cache.</summary>
    public long HostCacheHits { get; init; }
    /// <summary>Adapters read from disk because the host cache did not hold them.</summary>
    public long HostCacheMisses { get; init; }
    public long HostCacheEvictions { get; init; }
    /// <summary>Slot loads that read the adapter from disk (disk → host → slot).</summary>
    public long ColdLoads { get; init; }
    /// <summary>Slot loads from the host cache (host → slot).</summary>
    public long WarmLoads { get; init; }
    /// <summary>Cold load time: disk read and preparation (off the engine thread) plus the slot copy; over the last 1024 loads.</summary>
    public double ColdLoadMillisecondsP50 { get; init; }
    public double ColdLoadMillisecondsP99 { get; init; }
    /// <summary>Warm load time: the slot copy on the engine thread; over the last 1024 loads.</summary>
    public double WarmLoadMillisecondsP50 { get; init; }
    public double WarmLoadMillisecondsP99 { get; init; }
    /// <summary>Requests waiting for admission, by adapter id (base-model requests are not listed).</summary>
    public IReadOnlyDictionary<string, int> WaitingByAdapter { get; init; } = new Dictionary<string, int>();
    /// <summary>Generated tokens per second over the last few seconds.</summary>
    public double TokensPerSecond { get; init; }
    /// <summary>Positions per KV block; 0 with the fixed-slot cache (the KvBlock* and Prefix* figures are then 0).</summary>
    public int KvBlockSize { get; init; }
    public int KvBlocks { get; init; }
    /// <summary>Blocks some running sequence references.</summary>
    public int KvBlocksUsed { get; init; }
    /// <summary>Blocks a new sequence may take: free ones and unreferenced cached ones.</summary>
    public int KvBlocksFree { get; init; }
    /// <summary>Full blocks held by the prefix cache (referenced or not).</summary>
    public int KvBlocksCached { get; init; }
    /// <summary>Cached blocks evicted (least recently used first) to make room.</summary>
    public long KvBlockEvictions { get; init; }
    /// <summary>Tokens of admitted sequences looked up in the prefix cache.</summary>
    public long PrefixLookupTokens { get; init; }
    /// <summary>Of those, tokens whose keys/values were reused instead of computed.</summary>
    public long PrefixHitTokens { get; init; }
    /// <summary>Prefix hit rate: tokens reused ÷ tokens looked up (0 before any lookup).</summary>
    public double PrefixHitRate => PrefixLookupTokens == 0 ? 0 : (double)PrefixHitTokens / PrefixLookupTokens;
    /// <summary>Running sequences that gave their KV blocks to older ones and were computed again.</summary>
    public long Preemptions { get; init; }
}
