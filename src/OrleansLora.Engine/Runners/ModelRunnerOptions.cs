namespace OrleansLora.Engine.Runners;

/// <summary>What a runner allocates at start: KV space and adapter slots (from <see cref="Generation.InferenceEngineOptions"/>).</summary>
public sealed record ModelRunnerOptions
{
    /// <summary>Bytes for keys and values of all sequences.</summary>
    public long KvCacheBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary>Positions per sequence; 0: the model's context length.</summary>
    public int MaxSequenceLength { get; init; }

    /// <summary>Positions per KV block; 0: one fixed slot of <see cref="MaxSequenceLength"/> positions per sequence.</summary>
    public int KvBlockSize { get; init; } = 16;

    /// <summary>Most tokens in one forward (the engine's step budget); 0: not known, buffers grow as batches do.</summary>
    public int MaxBatchTokens { get; init; }

    /// <summary>At most this many sequences' KV space, whatever the budget allows.</summary>
    public int MaxSequences { get; init; } = 32;

    /// <summary>Device adapter slots; 0: base model only.</summary>
    public int MaxLoras { get; init; } = 8;

    public int MaxLoraRank { get; init; } = 64;

    /// <summary><c>float32</c> or <c>bfloat16</c>: the adapter tables' dtype.</summary>
    public string AdapterDtype { get; init; } = "bfloat16";

    /// <summary>Compute threads; 0: the backend's default.</summary>
    public int Threads { get; init; }

    public static ModelRunnerOptions From(Generation.InferenceEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new()
        {
            KvCacheBytes = options.KvCacheBytes,
            MaxSequenceLength = options.MaxSequenceLength,
            KvBlockSize = options.KvBlockSize,
            MaxSequences = Math.Max(options.MaxBatchSize, 1),
            MaxBatchTokens = options.MaxBatchTokens,
            MaxLoras = options.MaxLoras,
            MaxLoraRank = options.MaxLoraRank,
            AdapterDtype = options.AdapterDtype,
            Threads = options.Threads,
        };
    }
}
