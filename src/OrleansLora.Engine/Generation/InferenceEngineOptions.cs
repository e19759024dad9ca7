using OrleansLora.Engine.Quantization;

namespace OrleansLora.Engine.Generation;

/// <summary>Configuration section <c>OrleansLora:Engine</c>.</summary>
public sealed record InferenceEngineOptions
{
    public const string SectionName = "OrleansLora:Engine";

    /// <summary>Hugging Face model directory.</summary>
    public string ModelPath { get; init; } = "";

    /// <summary>Compute dtype: float32 (CPU default), bfloat16 or float16.</summary>
    public string Dtype { get; init; } = "float32";

    /// <summary>Storage of the base model's linear layers: None, Int8 or Nf4 (native kernels).</summary>
    public QuantizationMode Quantization { get; init; } = QuantizationMode.None;

    /// <summary>
    /// Arithmetic of the quantized layers: BFloat16 (default) multiplies batches in bfloat16 on AMX
    /// tiles where the CPU has them (2.4-16x at 16-256 rows, each product within 2^-8 relative), Float32
    /// keeps float32 products everywhere, Int8 adds int8 dot products to NF4 decode at batch 1-8.
    /// </summary>
    public QuantizedCompute QuantizedCompute { get; init; } = QuantizedCompute.BFloat16;

    /// <summary>
    /// Adapter slots on the device (0: base model only); a batch mixes up to this many adapters.
    /// The slot tables (MaxLoras × MaxLoraRank rows per projection) are allocated by the first
    /// registered adapter.
    /// </summary>
    public int MaxLoras { get; init; } = 8;

    /// <summary>
    /// Adapters kept in host memory (LRU), prepared for a quick copy into a slot; others are read
    /// again from their directory when needed.
    /// </summary>
    public int MaxCpuLoras { get; init; } = 64;

    /// <summary>
    /// Steps an adapter keeps its slot before it must give it up to an adapter waiting outside
    /// the slots: it then takes no new requests and leaves once its running sequences finish
    /// (LoRAX's adapter cycle, counted in steps). Pinned adapters never give up their slot.
    /// </summary>
    public int AdapterExchangeSteps { get; init; } = 32;

    /// <summary>
    /// Storage of the adapter slot tables and the host cache: bfloat16 (default) or float32.
    /// A decode step reads every active adapter's factors (32 rank-16 all-projection adapters on
    /// the small preset: ~300 MB in float32, as much as the base model), so bfloat16 halves the
    /// LoRA bytes; HF/PEFT keep adapters in bfloat16 on bfloat16 models too. The kernels
    /// accumulate in float32 either way; float32 keeps adapters bit-faithful to their files.
    /// </summary>
    public string AdapterDtype { get; init; } = "bfloat16";

    /// <summary>Largest adapter rank the slots hold; higher ranks are refused at registration.</summary>
    public int MaxLoraRank { get; init; } = 64;

    /// <summary>
    /// When set, every adapter file the engine opens must resolve (real path, after every symbolic
    /// link) inside this directory: the silo's adapter store. Null: adapters may be anywhere (the
    /// command-line tools). Files must be regular files either way.
    /// </summary>
    public string? AdapterRoot { get; init; }

    /// <summary>Bytes of KV cache: blocks of <see cref="KvBlockSize"/> positions, or sequence slots of <see cref="MaxSequenceLength"/> positions.</summary>
    public long KvCacheBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary>
    /// Positions per KV block (paged cache: admission by free blocks, prefix caching, preemption);
    /// 0: the fixed-slot cache, one slot of <see cref="MaxSequenceLength"/> positions per sequence.
    /// </summary>
    public int KvBlockSize { get; init; } = 16;

    /// <summary>
    /// With a paged cache: full blocks are kept after their sequence ends and reused by a later
    /// request with the same adapter and the same leading tokens (LRU eviction).
    /// </summary>
    public bool PrefixCaching { get; init; } = true;

    /// <summary>Longest prompt + generation; 0 means the model's max_position_embeddings.</summary>
    public int MaxSequenceLength { get; init; } = 2048;

    /// <summary>Most sequences in one step.</summary>
    public int MaxBatchSize { get; init; } = 32;

    /// <summary>Most tokens in one step; longer prompts are prefilled in chunks between decode steps.</summary>
    public int MaxBatchTokens { get; init; } = 512;

    /// <summary>Requests waiting for a slot beyond this are refused.</summary>
    public int MaxQueuedRequests { get; init; } = 1024;

    /// <summary>Threads libtorch may use (0: all cores).</summary>
    public int Threads { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelPath))
            throw new ArgumentException($"{SectionName}:ModelPath is required.", nameof(ModelPath));
        if (KvCacheBytes <= 0)
            throw new ArgumentException($"{SectionName}:KvCacheBytes must be positive, got {KvCacheBytes}.", nameof(KvCacheBytes));
        if (MaxSequenceLength < 0)
            throw new ArgumentException($"{SectionName}:MaxSequenceLength must be >= 0, got {MaxSequenceLength}.", nameof(MaxSequenceLength));
        if (KvBlockSize is < 0 or > 4096)
            throw new ArgumentException($"{SectionName}:KvBlockSize must be in [0, 4096] (0: fixed slots), got {KvBlockSize}.", nameof(KvBlockSize));
        if (MaxBatchSize < 1)
            throw new ArgumentException($"{SectionName}:MaxBatchSize must be >= 1, got {MaxBatchSize}.", nameof(MaxBatchSize));
        if (MaxBatchTokens < MaxBatchSize)
            throw new ArgumentException($"{SectionName}:MaxBatchTokens ({MaxBatchTokens}) must be >= MaxBatchSize ({MaxBatchSize}) so every running sequence can decode each step.", nameof(MaxBatchTokens));
        if (MaxQueuedRequests < 1)
            throw new ArgumentException($"{SectionName}:MaxQueuedRequests must be >= 1, got {MaxQueuedRequests}.", nameof(MaxQueuedRequests));
        if (MaxLoras < 0)
            throw new ArgumentException($"{SectionName}:MaxLoras must be >= 0, got {MaxLoras}.", nameof(MaxLoras));
        if (MaxLoraRank is < 1 or > 4096)
            throw new ArgumentException($"{SectionName}:MaxLoraRank must be in [1, 4096], got {MaxLoraRank}.", nameof(MaxLoraRank));
        if (MaxCpuLoras < 1)
            throw new ArgumentException($"{SectionName}:MaxCpuLoras must be >= 1, got {MaxCpuLoras}.", nameof(MaxCpuLoras));
        if (AdapterExchangeSteps < 1)
            throw new ArgumentException($"{SectionName}:AdapterExchangeSteps must be >= 1, got {AdapterExchangeSteps}.", nameof(AdapterExchangeSteps));
        if (AdapterDtype is not ("float32" or "bfloat16"))
            throw new ArgumentException($"{SectionName}:AdapterDtype must be float32 or bfloat16, got \"{AdapterDtype}\".", nameof(AdapterDtype));
        if (!Enum.IsDefined(Quantization))
            throw new ArgumentException($"{SectionName}:Quantization must be None, Int8 or Nf4, got {Quantization}.", nameof(Quantization));
        if (!Enum.IsDefined(QuantizedCompute))
            throw new ArgumentException($"{SectionName}:QuantizedCompute must be BFloat16, Float32 or Int8, got {QuantizedCompute}.", nameof(QuantizedCompute));
        if (Threads < 0)
            throw new ArgumentException($"{SectionName}:Threads must be >= 0, got {Threads}.", nameof(Threads));
    }
}
