using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Caching;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Native;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Modeling;

/// <summary>
/// All decoder layers of a decode step in one native call (<c>olora_decode_layers</c>): the kernels
/// <see cref="DecoderLayer.ForwardDecode"/> calls one by one, in the same order on the same buffers, so the same bits,
/// without the dozens of interop calls, checks and dispatches per layer between them. LoRA rows are served from an
/// <see cref="AdapterSlotTable"/>'s tables in place (the SGMV call its <c>Apply</c> makes, after the same GEMV). The
/// weights' pointers (the projections', the norms' and the RoPE tables') are read once here and kept alive by the
/// model that owns them, which runs this only while it holds its decode buffers; its Dispose waits for those first.
/// </summary>
internal sealed unsafe class NativeDecodeLayers
{
    private readonly NativeDecodeLayer[] _layers;
    private readonly ModelConfig _config;
    private readonly float* _cos;
    private readonly float* _sin;
    private readonly int _maxPositions;
    private readonly int _window;
    private AdapterSlotTable? _fittedTable; // the last slot table found to fit this model

    private NativeDecodeLayers(NativeDecodeLayer[] layers, ModelConfig config, Tensor cos, Tensor sin, int window)
    {
        _layers = layers;
        _config = config;
        _cos = (float*)TensorMemory.DataPointer(cos);
        _sin = (float*)TensorMemory.DataPointer(sin);
        _maxPositions = checked((int)(cos.numel() / config.HeadDim));
        _window = window;
    }

    /// <summary>
    /// The native step over <paramref name="layers"/>, or null when a layer's projections are not all on native kernels
    /// (or its norms not fused, or the RoPE tables not float32): those models keep the per-layer path.
    /// </summary>
    public static NativeDecodeLayers? TryCreate(ModelConfig config, DecoderLayer[] layers, RotaryEmbedding rope)
    {
        var (cos, sin) = rope.Tables;
        if (layers.Length == 0 || cos.dtype != ScalarType.Float32 || !cos.is_contiguous() || !sin.is_contiguous()
            || cos.numel() % config.HeadDim != 0 || sin.numel() != cos.numel())
            return null;
        var descriptors = new NativeDecodeLayer[layers.Length];
        int? window = null;
        for (int i = 0; i < layers.Length; i++)
        {
            var l = layers[i];
            if (!l.InputNorm.Fused || !l.PostAttentionNorm.Fused
                || !TryRef(l.Attention.QkvProj, out var qkv) || !TryRef(l.Attention.OProj, out var o)
                || !TryRef(l.Mlp.GateUp, out var gateUp) || !TryRef(l.Mlp.Down, out var down))
                return null;
            // One window for the whole step: the kernels take it once.
            if (window is { } w && w != l.Attention.SlidingWindow)
                return null;
            window = l.Attention.SlidingWindow;
            descriptors[i] = new NativeDecodeLayer
            {
                InputNorm = (float*)TensorMemory.DataPointer(l.InputNorm.Weight),
                PostAttentionNorm = (float*)TensorMemory.DataPointer(l.PostAttentionNorm.Weight),
                InputNormEps = l.InputNorm.Epsilon,
                PostAttentionNormEps = l.PostAttentionNorm.Epsilon,
                Qkv = qkv,
                O = o,
                GateUp = gateUp,
                Down = down,
            };
        }
        return new NativeDecodeLayers(descriptors, config, cos, sin, window ?? 0);
    }

    private static bool TryRef(ILinearLayer layer, out NativeLinearRef reference)
    {
        reference = default;
        return layer is INativeLinear native && native.TryGetNativeRef(out reference);
    }

    /// <summary>
    /// Runs every layer on <paramref name="b"/>: the residual stream in <see cref="DecodeBuffers.Residual"/>, the last
    /// layer's MLP output left in <see cref="DecodeBuffers.MlpOutput"/> for the final norm to add (as
    /// <see cref="DecoderLayer.ForwardDecode"/> leaves it). <paramref name="batch"/>: one token per sequence;
    /// <paramref name="adapters"/>: the slots its LoRA rows name, or null for a batch on the base alone.
    /// </summary>
    public void Run(DecodeBuffers b, ForwardBatch batch, PagedKvCache cache, AdapterSlotTable? adapters)
    {
        var plan = batch.PagedPlan(cache.BlockSize);
        var (keys, values) = cache.PoolPointers;
        if (keys.Length != _layers.Length)
            throw new ArgumentException($"the KV cache has {keys.Length} layers; the model has {_layers.Length}.", nameof(cache));
        var step = new NativeDecodeStep
        {
            Rows = batch.TokenCount,
            Hidden = _config.HiddenSize,
            NumHeads = _config.NumAttentionHeads,
            KvHeads = _config.NumKeyValueHeads,
            HeadDim = _config.HeadDim,
            Intermediate = _config.IntermediateSize,
            Pending = 0,
            CacheDtype = cache.Dtype == ScalarType.Float32 ? NativeMethods.DtypeF32 : NativeMethods.DtypeBf16,
            Residual = Data(b.Residual),
            Normed = Data(b.Normed),
            Qkv = Data(b.Qkv),
            Attended = Data(b.Attended),
            Projected = Data(b.Projected),
            GateUp = Data(b.GateUp),
            Activation = Data(b.Activation),
            MlpOutput = Data(b.MlpOutput),
            CosTable = _cos,
            SinTable = _sin,
            MaxPositions = _maxPositions,
            BlockSize = cache.BlockSize,
            NumBlocks = cache.BlockCount,
            BlockTableStride = plan.MaxBlocks,
            MaxBlocksPerSeq = plan.MaxBlocks,
            SlidingWindow = _window,
        };
        int[] segmentStarts = batch.SegmentStarts, segmentSlots = batch.SegmentAdapterSlots;
        if (adapters is not null)
        {
            if (!ReferenceEquals(adapters, _fittedTable))
            {
                if (!adapters.Fits(_config))
                    throw new ArgumentException(
                        $"the adapter slot table was made for another model: its layers or projection widths differ from this model's ({_config.NumHiddenLayers} layers, hidden {_config.HiddenSize}).",
                        nameof(adapters));
                _fittedTable = adapters; // a table's widths never change
            }
            for (int i = 0; i < segmentSlots.Length; i++)
            {
                if (segmentSlots[i] < -1 || segmentSlots[i] >= adapters.SlotCount)
                    throw new ArgumentException($"segment {i} names slot {segmentSlots[i]}; slots are -1 (none) or [0, {adapters.SlotCount}).", nameof(batch));
            }
            step.Lora = adapters.NativeRefs;
            step.LoraSegments = segmentSlots.Length;
            step.LoraDtype = adapters.DtypeCode;
            step.LoraSlots = adapters.SlotCount;
            step.LoraMaxRank = adapters.MaxRank;
            step.LoraSlotScales = adapters.NativeScales;
        }
        int rc;
        fixed (NativeDecodeLayer* layers = _layers)
        fixed (nint* k = keys)
        fixed (nint* v = values)
        fixed (int* positions = batch.PositionIndices)
        fixed (long* slots = plan.SlotMapping)
        fixed (int* tables = plan.BlockTables)
        fixed (int* lengths = plan.ContextLengths)
        fixed (int* starts = segmentStarts)
        fixed (int* slotsOfSegments = segmentSlots)
        {
            step.LoraSegStarts = starts;
            step.LoraSegSlots = slotsOfSegments;
            step.KPools = (void**)k;
            step.VPools = (void**)v;
            step.Positions = positions;
            step.SlotMapping = slots;
            step.BlockTables = tables;
            step.ContextLens = lengths;
            rc = NativeMethods.DecodeLayers(layers, sizeof(NativeDecodeLayer), _layers.Length, &step, sizeof(NativeDecodeStep));
        }
        GC.KeepAlive(b);
        GC.KeepAlive(cache);
        GC.KeepAlive(adapters);
        if (rc != NativeStatus.Ok)
            throw new InvalidOperationException($"olora_decode_layers failed: {NativeStatus.Describe(rc)} ({rc}).");
    }

    private static float* Data(Tensor t) => (float*)TensorMemory.DataPointer(t);
}
