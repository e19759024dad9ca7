using OrleansLora.Engine.Files;

namespace OrleansLora.Engine.Adapters;

/// <summary>Limits applied when a PEFT adapter is loaded.</summary>
public sealed record AdapterLoadOptions
{
    /// <summary>Largest <c>adapter_config.json</c> read (1 MiB; PEFT writes about 1 KB).</summary>
    public const long DefaultMaxConfigBytes = 1L << 20;

    /// <summary>
    /// Largest safetensors header of an adapter (8 MiB): about 150 bytes per tensor, so room for
    /// 50,000 tensors where a rank-16 all-projection 7B adapter has 448.
    /// </summary>
    public const long DefaultMaxHeaderBytes = 8L << 20;

    /// <summary>
    /// Largest accepted weight magnitude, after the scaling is folded into lora_B: 65504, float16's
    /// largest value. Trained LoRA factors are orders of magnitude smaller; a weight above it is a
    /// corrupted or diverged file, and below it the low-rank product cannot overflow float32 for
    /// any activation a model produces (|Δy| ≤ |x| · 65504² · in · r ≈ |x| · 9e15 at in = 16384,
    /// r = 128: finite for |x| up to 1e22), so requests on the adapter stay finite.
    /// </summary>
    public const float DefaultMaxAbsWeight = 65504f;

    /// <summary>
    /// Largest LoRA rank accepted. The slot table is sized for this rank, so a larger adapter is
    /// refused at load rather than failing later when it is swapped in.
    /// </summary>
    public int MaxRank { get; init; } = 128;

    /// <summary>Name of the adapter; null uses the directory's name.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// Where the adapter's files must be (real path, every symbolic link followed); null: anywhere
    /// (the command-line tools). Files must be regular files either way.
    /// </summary>
    public FileSandbox? Sandbox { get; init; }

    /// <inheritdoc cref="DefaultMaxConfigBytes"/>
    public long MaxConfigBytes { get; init; } = DefaultMaxConfigBytes;

    /// <inheritdoc cref="DefaultMaxHeaderBytes"/>
    public long MaxHeaderBytes { get; init; } = DefaultMaxHeaderBytes;

    /// <inheritdoc cref="DefaultMaxAbsWeight"/>
    public float MaxAbsWeight { get; init; } = DefaultMaxAbsWeight;
}
