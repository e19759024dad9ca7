namespace OrleansLora.Devices;

/// <summary>
/// What a worker silo's load publisher sends every other silo about one of its devices, every
/// <c>OrleansLora:Worker:LoadPublishPeriod</c>; each silo's placement decides from the latest it received.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record DeviceLoad
{
    [Id(0)] public required SiloAddress Silo { get; init; }
    [Id(1)] public int DeviceIndex { get; init; }
    /// <summary>Pinnable adapter slots: <see cref="MaxLoras"/> less the swap slots kept for adapters that are not pinned.</summary>
    [Id(2)] public int AdapterSlots { get; init; }
    /// <summary>Slots holding a pinned adapter.</summary>
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
    /// <summary>
    /// Adapters holding one of this device's pins: placement sends such an adapter back here first, so an activation
    /// the runtime re-creates (after a silo left) finds its pin instead of taking another adapter's slot.
    /// </summary>
    [Id(22)] public IReadOnlyList<string> PinnedAdapterIds { get; init; } = [];
    /// <summary>
    /// Adapters whose activation on this device's silo ended in the last seconds without taking a device (an unknown
    /// id, weights that failed to load): a silo that counted a reservation for one of them here drops it, so requests
    /// for adapters that do not exist never hold the free slots placement gives real ones. The same list on each of
    /// the silo's devices.
    /// </summary>
    [Id(23)] public IReadOnlyList<string> AbandonedAdapters { get; init; } = [];
    [Id(12)] public DateTimeOffset PublishedAt { get; init; }
    /// <summary>
    /// Counts the silo's publishes (1, 2, …; 0 when not published, as a GPU grain's own <c>GetLoad</c>): a view
    /// keeps the highest it has seen, since a periodic publish and a pin change's may arrive out of order. A count,
    /// not <see cref="PublishedAt"/>: a wall clock stepped back would make every later publish look older.
    /// </summary>
    [Id(24)] public long Sequence { get; init; }
    [Id(13)] public string BaseModel { get; init; } = "";
    /// <summary>"cpu" or "cuda" (the runner's device description).</summary>
    [Id(30)] public string DeviceKind { get; init; } = "";
    /// <summary>The device's name: the CPU model and kernel ISA, or the GPU's name.</summary>
    [Id(31)] public string DeviceName { get; init; } = "";
    /// <summary>The device's memory (the CPU: what this process may use).</summary>
    [Id(32)] public long MemoryTotalBytes { get; init; }
    /// <summary>Memory in use: on the CPU what the engine holds (weights, KV cache, adapter slot tables); on a GPU the device's.</summary>
    [Id(33)] public long MemoryUsedBytes { get; init; }
    /// <summary>All adapter slots of the device (the engine's <c>MaxLoras</c>): pinnable plus swap.</summary>
    [Id(14)] public int MaxLoras { get; init; }
    /// <summary>Slots holding an adapter now, pinned or swapped in by traffic.</summary>
    [Id(15)] public int OccupiedSlots { get; init; }
    /// <summary>Generation requests per second the device's adapters received, measured over the last seconds: what rebalancing evens out.</summary>
    [Id(16)] public double RequestsPerSecond { get; init; }
    /// <summary>KV blocks of the device's paged cache (0 with fixed slots).</summary>
    [Id(17)] public int KvBlocks { get; init; }
    /// <summary>KV blocks some running sequence references.</summary>
    [Id(18)] public int KvBlocksUsed { get; init; }
    /// <summary>Full KV blocks held by the prefix cache, referenced or not.</summary>
    [Id(19)] public int KvBlocksCached { get; init; }
    /// <summary>Prompt tokens whose keys/values came from the prefix cache ÷ prompt tokens admitted, since start.</summary>
    [Id(20)] public double PrefixHitRate { get; init; }
    /// <summary>Running sequences preempted (recomputed later) because KV blocks ran out, since start.</summary>
    [Id(21)] public long Preemptions { get; init; }

    public string Key => DeviceKey.Format(Silo, DeviceIndex);
    public int FreeAdapterSlots => Math.Max(0, AdapterSlots - PinnedAdapters);
    public int SwapSlots => Math.Max(0, MaxLoras - AdapterSlots);
}
