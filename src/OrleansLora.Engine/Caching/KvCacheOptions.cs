namespace OrleansLora.Engine.Caching;

/// <summary>How much memory the KV cache may take and how long a sequence may grow.</summary>
public sealed record KvCacheOptions
{
    /// <summary>Bytes for keys and values of all layers; divided into fixed-size sequence slots.</summary>
    public long BudgetBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary>Longest sequence (prompt + generated); 0 means the model's max_position_embeddings.</summary>
    public int MaxSequenceLength { get; init; }

    /// <summary>Upper bound on slots regardless of budget (also the largest possible batch).</summary>
    public int MaxSlots { get; init; } = 256;
}
