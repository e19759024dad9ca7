using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Caching;
using OrleansLora.Engine.Checkpoints;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Native;
using OrleansLora.Engine.Quantization;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Modeling;

/// <summary>
/// LlamaForCausalLM / MistralForCausalLM (the two differ only in Mistral's sliding window), loaded
/// from a Hugging Face directory with transformers' tensor names. Forward takes a packed batch of
/// sequences at any positions and returns logits for each sequence's last token.
/// </summary>
public sealed class LlamaModel : IDisposable
{
    private readonly Tensor? _embed;      // [vocab, hidden]; null when the rows come from a dense tied _lmHead
    private readonly ILinearLayer _lmHead; // hidden → vocab
    private readonly RmsNorm _norm;
    private readonly DecoderLayer[] _layers;
    private readonly RotaryEmbedding _rope;
    private readonly DecodeWorkspace _workspace;
    private int _workspaceBusy;

    private LlamaModel(ModelConfig config, string directory, ScalarType dtype, QuantizationMode quantization, Tensor? embed, ILinearLayer lmHead, RmsNorm norm, DecoderLayer[] layers, RotaryEmbedding rope)
    {
        Quantization = quantization;
        Config = config;
        Directory = directory;
        Dtype = dtype;
        _embed = embed;
        _lmHead = lmHead;
        _norm = norm;
        _layers = layers;
        _rope = rope;
        _workspace = new DecodeWorkspace(config);
        // Fixed at load: float32 weights on the fused kernels, and a contiguous float32 table to copy embedding rows from.
        _decodeBuffersUsable = dtype == ScalarType.Float32 && rope.Tables.Cos.dtype == ScalarType.Float32 && norm.Fused
            && Array.TrueForAll(layers, l => l.InputNorm.Fused && l.PostAttentionNorm.Fused)
            && (embed is not null ? embed.dtype == ScalarType.Float32 && embed.is_contiguous() : lmHead is DenseLinear { IsNative: true });
        _nativeLayers = _decodeBuffersUsable ? NativeDecodeLayers.TryCreate(config, layers, rope) : null;
    }

    private readonly NativeDecodeLayers? _nativeLayers;

    private readonly bool _decodeBuffersUsable;

    public ModelConfig Config { get; }
    public string Directory { get; }
    public ScalarType Dtype { get; }
    public QuantizationMode Quantization { get; }

    /// <summary>LoRA slots that batch sequences may name (<see cref="BatchSequence.AdapterSlot"/>), normally an <see cref="AdapterSlotTable"/>; null: base model only.</summary>
    public ILoraApplier? Adapters { get; set; }

    /// <summary>Bytes of weights a decode step reads: every linear layer (embedding rows are negligible).</summary>
    public long LinearWeightBytes => _lmHead.WeightBytes + _layers.Sum(l =>
        l.Attention.QkvProj.WeightBytes + l.Attention.OProj.WeightBytes + l.Mlp.GateUp.WeightBytes + l.Mlp.Down.WeightBytes);

    /// <summary>Bytes of weights held: the linear layers and the embedding (tied: the head's rows); the norms are negligible.</summary>
    public long WeightBytes => LinearWeightBytes + (_embed is null ? 0 : _embed.NumberOfElements * _embed.ElementSize);
    public int MaxSequenceLength => _rope.MaxPositions;
    public IReadOnlyList<DecoderLayer> Layers => _layers;

    public static LlamaModel Load(string directory, ModelLoadOptions? options = null)
    {
        NativeRuntime.EnsureInitialized();
        options ??= new ModelLoadOptions();
        var config = ModelConfig.Load(directory);
        var dtype = EngineDtypes.FromTorchDtypeName(options.Dtype, "ModelLoadOptions.Dtype");
        int maxLen = options.MaxSequenceLength > 0 ? Math.Min(options.MaxSequenceLength, config.MaxPositionEmbeddings) : config.MaxPositionEmbeddings;

        SafetensorsDtype? storedDtype = config.TorchDtype is { } declared
            ? SafetensorsDtypeExtensions.FromScalarType(EngineDtypes.FromTorchDtypeName(declared, Path.Combine(directory, "config.json")))
            : null;
        using var reader = CheckpointReader.Open(directory);
        var owned = new List<IDisposable>();
        try
        {
            long h = config.HiddenSize, q = (long)config.NumAttentionHeads * config.HeadDim, kv = (long)config.NumKeyValueHeads * config.HeadDim;
            long ff = config.IntermediateSize, vocab = config.VocabSize;
            Tensor Load(string name, params long[] shape)
            {
                var t = reader.Load(name, shape, dtype, storedDtype);
                owned.Add(t);
                return t;
            }
            // Projections that read the same input are stacked by rows (one matmul instead of
            // three or two); the parts are loaded one at a time, so the copy is one layer's worth.
            // Quantized layers are quantized from float32, one weight at a time.
            var linearDtype = options.Quantization == QuantizationMode.None ? dtype : ScalarType.Float32;
            ILinearLayer Own(Tensor weight, bool dense = false)
            {
                ILinearLayer linear;
                if (options.Quantization == QuantizationMode.None || dense)
                {
                    linear = new DenseLinear(weight);
                }
                else
                {
                    using (weight)
                        linear = options.Quantization == QuantizationMode.Nf4 ? Nf4Linear.Quantize(weight, options.QuantizedCompute) : Int8Linear.Quantize(weight, options.QuantizedCompute);
                }
                owned.Add(linear);
                return linear;
            }
            ILinearLayer LoadStacked(params (string Name, long Rows)[] parts)
            {
                var loaded = new List<Tensor>(parts.Length);
                try
                {
                    foreach (var part in parts)
                        loaded.Add(reader.Load(part.Name, [part.Rows, h], linearDtype, storedDtype));
                    return Own(cat(loaded, 0));
                }
                finally
                {
                    foreach (var l in loaded)
                        l.Dispose();
                }
            }
            ILinearLayer LoadLinear(string name, long rows, long cols) => Own(reader.Load(name, [rows, cols], linearDtype, storedDtype));
            bool denseHead = options.Quantization != QuantizationMode.None && !options.QuantizeLmHead;
            // Tied checkpoints usually omit lm_head.weight; some still carry a copy, which is ignored.
            // When tied and dense, one [hidden, vocab] copy serves both the lm_head and the embedding
            // lookup; a quantized head keeps a dense embedding beside it for the lookup.
            bool embedFromHead = config.TieWordEmbeddings && (options.Quantization == QuantizationMode.None || denseHead);
            Tensor? embed = embedFromHead ? null : Load("model.embed_tokens.weight", vocab, h);
            string headName = config.TieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight";
            var lmHead = denseHead ? Own(reader.Load(headName, [vocab, h], dtype, storedDtype), dense: true) : LoadLinear(headName, vocab, h);
            var layers = new DecoderLayer[config.NumHiddenLayers];
            for (int i = 0; i < layers.Length; i++)
            {
                string p = $"model.layers.{i}.";
                var attention = new Attention(config,
                    LoadStacked((p + "self_attn.q_proj.weight", q), (p + "self_attn.k_proj.weight", kv), (p + "self_attn.v_proj.weight", kv)),
                    LoadLinear(p + "self_attn.o_proj.weight", h, q));
                var mlp = new SwiGluMlp(
                    LoadStacked((p + "mlp.gate_proj.weight", ff), (p + "mlp.up_proj.weight", ff)),
                    LoadLinear(p + "mlp.down_proj.weight", h, ff));
                layers[i] = new DecoderLayer(i,
                    new RmsNorm(Load(p + "input_layernorm.weight", h), config.RmsNormEps),
                    attention,
                    new RmsNorm(Load(p + "post_attention_layernorm.weight", h), config.RmsNormEps),
                    mlp);
            }
            var norm = new RmsNorm(Load("model.norm.weight", h), config.RmsNormEps);
            var rope = new RotaryEmbedding(config, maxLen, dtype);
            return new LlamaModel(config, directory, dtype, options.Quantization, embed, lmHead, norm, layers, rope);
        }
        catch
        {
            foreach (var d in owned)
                d.Dispose();
            throw;
        }
    }

    /// <summary>Allocates a KV cache for this model from a memory budget.</summary>
    public KvCache CreateKvCache(KvCacheOptions options) =>
        new(Config, options with { MaxSequenceLength = options.MaxSequenceLength > 0 ? Math.Min(options.MaxSequenceLength, MaxSequenceLength) : MaxSequenceLength }, Dtype);

    /// <summary>Allocates a paged KV cache for this model: blocks of <paramref name="blockSize"/> positions from a memory budget.</summary>
    public PagedKvCache CreatePagedKvCache(long budgetBytes, int blockSize, int maxSequenceLength = 0, long maxBlocks = 0) =>
        new(Config, budgetBytes, blockSize, maxSequenceLength > 0 ? Math.Min(maxSequenceLength, MaxSequenceLength) : MaxSequenceLength, maxBlocks, Dtype);

    /// <summary>
    /// Runs the batch, writing its keys/values into the cache, and returns float32 logits
    /// [sequences, vocab] for each sequence's last token, or [tokens, vocab] for every token when
    /// <paramref name="allPositions"/> is set.
    /// </summary>
    public Tensor Forward(ForwardBatch batch, KvCache cache, bool allPositions = false, long[]? extraRows = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(cache);
        if (cache.MaxSequenceLength > MaxSequenceLength)
            throw new ArgumentException($"KV cache holds {cache.MaxSequenceLength} positions but rotary tables cover {MaxSequenceLength}.", nameof(cache));
        // A negative slot would wrap to the last one and a repeated slot would race its own
        // writes: both corrupt another sequence's keys and values, so refuse them.
        var used = new bool[cache.SlotCount];
        foreach (var s in batch.Sequences)
        {
            if ((uint)s.Slot >= (uint)cache.SlotCount || used[s.Slot])
                throw new ArgumentException($"slot {s.Slot} is outside [0, {cache.SlotCount}) or used twice in one batch.", nameof(batch));
            used[s.Slot] = true;
        }
        return ForwardLayers(batch, cache, allPositions, extraRows);
    }

    /// <summary>
    /// <see cref="Forward(ForwardBatch, KvCache, bool)"/> over a paged cache: each sequence's
    /// <see cref="BatchSequence.BlockTable"/> says where its positions live.
    /// </summary>
    public Tensor Forward(ForwardBatch batch, PagedKvCache cache, bool allPositions = false, long[]? extraRows = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(cache);
        if (cache.MaxSequenceLength > MaxSequenceLength)
            throw new ArgumentException($"KV cache holds {cache.MaxSequenceLength} positions but rotary tables cover {MaxSequenceLength}.", nameof(cache));
        // A block outside the pools would be written out of bounds, and a block two sequences of
        // one batch write would mix their keys: refuse both (shared prefix blocks are only read).
        var written = new HashSet<int>();
        foreach (var s in batch.Sequences)
        {
            var table = s.BlockTable ?? throw new ArgumentException($"sequence {s.Slot} of a paged batch has no block table.", nameof(batch));
            int end = s.StartPosition + s.TokenCount;
            if (end > cache.MaxSequenceLength)
                throw new ArgumentException($"sequence {s.Slot} reaches position {end}, beyond the KV cache's {cache.MaxSequenceLength} positions.", nameof(batch));
            int needed = (end + cache.BlockSize - 1) / cache.BlockSize;
            if (table.Length < needed)
                throw new ArgumentException($"sequence {s.Slot} reaches position {end} but its block table holds {table.Length} blocks of {cache.BlockSize}.", nameof(batch));
            for (int b = 0; b < needed; b++)
            {
                if ((uint)table[b] >= (uint)cache.BlockCount)
                    throw new ArgumentException($"sequence {s.Slot} names KV block {table[b]}, outside [0, {cache.BlockCount}).", nameof(batch));
            }
            for (int b = s.StartPosition / cache.BlockSize; b < needed; b++)
            {
                if (!written.Add(table[b]))
                    throw new ArgumentException($"KV block {table[b]} is written by two sequences of one batch.", nameof(batch));
            }
        }
        return ForwardLayers(batch, cache, allPositions, extraRows);
    }

    /// <param name="extraRows">
    /// Token rows whose logits follow the last-token rows ([sequences + extra, vocab]), through a head call of their own
    /// so the last-token logits are the same numbers with or without them (the head's kernels pick their path by rows).
    /// </param>
    private Tensor ForwardLayers(ForwardBatch batch, IKvCache cache, bool allPositions, long[]? extraRows)
    {
        if (!allPositions && extraRows is not { Length: > 0 } && cache is PagedKvCache paged && UsesDecodeBuffers(batch)
            && Interlocked.CompareExchange(ref _workspaceBusy, 1, 0) == 0)
        {
            // One forward at a time holds the buffers; a concurrent one (never the engine's, which has one thread)
            // takes the general path.
            try
            {
                return ForwardDecode(batch, paged);
            }
            finally
            {
                Volatile.Write(ref _workspaceBusy, 0);
            }
        }
        // A few rows: libtorch's remaining ops (gathers, views, small copies) run on this thread alone. Waking its
        // OpenMP team for each costs more than the op, and its threads contend with the native kernels' pool for the
        // same cores (tiny preset, batch 1: 0.9 ms a decode step on two torch threads, 0.5 ms on one).
        using var threads = batch.TokenCount <= SingleThreadTokens ? TorchThreads.One() : default;
        using var scope = NewDisposeScope();
        var x = _embed is not null
            ? _embed.index_select(0, batch.TokenIds)                                   // [tokens, hidden]
            : ((DenseLinear)_lmHead).EmbeddingRows(batch.TokenIds);                   // [tokens, hidden]
        var (cos, sin) = _rope.ForPositions(batch.Positions);
        var lora = LoraFor(batch);
        foreach (var layer in _layers)
            x = layer.Forward(x, batch, cache, cos, sin, lora);
        var rows = allPositions ? x : x.index_select(0, batch.LastRows); // [sequences, hidden]
        var logits = _lmHead.Forward(_norm.Forward(rows)).to(ScalarType.Float32); // [rows, vocab]
        if (extraRows is { Length: > 0 } && !allPositions)
        {
            foreach (long row in extraRows)
            {
                if ((ulong)row >= (ulong)x.shape[0])
                    throw new ArgumentOutOfRangeException(nameof(extraRows), $"token row {row} is outside the batch's {x.shape[0]} tokens.");
            }
            using var index = tensor(extraRows, ScalarType.Int64);
            var extra = _lmHead.Forward(_norm.Forward(x.index_select(0, index))).to(ScalarType.Float32); // [extra, vocab]
            logits = cat([logits, extra], 0);
        }
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Off: every step takes the general path (tests compare the two). On by default.
    /// </summary>
    internal bool DecodeBuffersEnabled { get; set; } = true;

    /// <summary>The decode step's buffers (tests poison them).</summary>
    internal DecodeWorkspace DecodeWorkspace => _workspace;

    /// <summary>
    /// Whether a step runs on the decode buffers: one token per sequence, at most <see cref="DecodeWorkspace.MaxRows"/>
    /// of them, on a model whose weights the fused kernels serve (decided at load).
    /// </summary>
    private bool UsesDecodeBuffers(ForwardBatch batch) =>
        DecodeBuffersEnabled && _decodeBuffersUsable && batch.AllDecode && batch.TokenCount <= DecodeWorkspace.MaxRows;

    /// <summary>Decode steps that ran on the buffers (tests check that the path they compare was taken).</summary>
    internal long DecodeBufferSteps { get; private set; }

    /// <summary>
    /// Off: decode steps on the buffers run layer by layer from here (tests compare the two). On by default; without
    /// effect where <see cref="NativeDecodeLayers"/> does not serve the model, or for LoRA rows of an
    /// <see cref="ILoraApplier"/> other than an <see cref="AdapterSlotTable"/>.
    /// </summary>
    internal bool NativeDecodeEnabled { get; set; } = true;

    /// <summary>Decode steps whose layers ran in one native call.</summary>
    internal long NativeDecodeSteps { get; private set; }

    /// <summary>
    /// A decode step on the model's <see cref="DecodeWorkspace"/>: the same kernels in the same order as the general
    /// path (so the same numbers), writing into buffers made once, and allocating one tensor, the logits it returns.
    /// </summary>
    private Tensor ForwardDecode(ForwardBatch batch, PagedKvCache cache)
    {
        DecodeBufferSteps++;
        var b = _workspace.For(batch.TokenCount);
        if (_embed is not null)
            DenseLinear.EmbeddingRowsInto(_embed, batch.TokenIdArray, b.Residual);
        else
            ((DenseLinear)_lmHead).EmbeddingRowsInto(batch.TokenIdArray, b.Residual);
        var (cos, sin) = _rope.Tables;
        var lora = LoraFor(batch);
        // LoRA rows in one native call need the tables the native kernels read: an AdapterSlotTable's.
        var table = lora is null ? null : Adapters as AdapterSlotTable;
        if (_nativeLayers is not null && NativeDecodeEnabled && (lora is null || table is not null))
        {
            _nativeLayers.Run(b, batch, cache, table);
            NativeDecodeSteps++;
        }
        else
        {
            for (int i = 0; i < _layers.Length; i++)
                _layers[i].ForwardDecode(b, pending: i > 0, batch, cache, cos, sin, lora);
        }
        _norm.AddForwardInto(b.MlpOutput, b.Residual, b.Normed);
        var logits = empty(batch.TokenCount, _lmHead.OutFeatures, dtype: ScalarType.Float32);
        try
        {
            _lmHead.ForwardInto(b.Normed, logits);
        }
        catch
        {
            logits.Dispose();
            throw;
        }
        return logits;
    }

    /// <summary>The batch's adapter slots, or null for a batch on the base model alone.</summary>
    private LoraContext? LoraFor(ForwardBatch batch) => batch.HasAdapters
        ? new LoraContext(Adapters ?? throw new ArgumentException("the batch names adapter slots but no AdapterSlotTable is attached to the model.", nameof(batch)), batch)
        : null;

    /// <summary>Batches of at most this many tokens run libtorch's ops on the calling thread (the native kernels keep their pool).</summary>
    internal const int SingleThreadTokens = 16;

    public void Dispose()
    {
        // A forward still on the buffers (another thread's) finishes first, before any weight is freed: the native
        // decode step reads the weights through raw pointers, with no disposed check of its own. The flag then stays at
        // 2 (disposed): a later forward takes the general path (and finds disposed weights, as before), and a second
        // Dispose goes through.
        SpinWait.SpinUntil(() => Interlocked.CompareExchange(ref _workspaceBusy, 2, 0) != 1);
        _embed?.Dispose();
        _lmHead.Dispose();
        _norm.Dispose();
        foreach (var l in _layers)
            l.Dispose();
        _rope.Dispose();
        _workspace.Dispose();
    }
}
