using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Native;
using System.Runtime.CompilerServices;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Adapters;

/// <summary>
/// Device-resident LoRA weights of up to <see cref="SlotCount"/> adapters, stacked per projection
/// in the layout the SGMV kernel reads: A <c>[layers, slots, maxRank, in]</c> and Bᵀ
/// <c>[layers, slots, maxRank, out]</c> (scaling already folded into B), plus each
/// (layer, projection, slot)'s rank; rank 0 means the adapter leaves that projection alone.
/// The tables may be bfloat16 under a float32 model (half the bytes a decode step reads; the
/// kernel accumulates in float32). Not thread-safe: the engine loads slots between steps.
/// </summary>
public sealed unsafe class AdapterSlotTable : ILoraApplier, IDisposable
{
    private readonly Dictionary<string, (Tensor A, Tensor B)> _tables = new(StringComparer.Ordinal);
    // Per [layer, module]: the layer's views of the tables, made once (Apply runs 7 × layers
    // times a step, and indexing a tensor is a native call and an allocation).
    private readonly (Tensor A, Tensor B)[,] _layerViews;
    // [layer, module, slot], on the pinned heap: the native decode step reads each (layer, module)'s run of slots in place.
    private readonly int[] _ranks;
    private readonly float[] _scales; // pinned too
    // Per (layer, module): the tables' and ranks' pointers the native decode step takes (pinned; the tables never move).
    private readonly NativeLoraRef[] _nativeRefs;

    public AdapterSlotTable(ModelConfig config, int slots, int maxRank, ScalarType dtype)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRank, 1);
        if (dtype is not (ScalarType.Float32 or ScalarType.BFloat16))
            throw new ArgumentException($"adapter tables support float32 and bfloat16, not {dtype}.", nameof(dtype));
        SlotCount = slots;
        MaxRank = maxRank;
        Layers = config.NumHiddenLayers;
        Dtype = dtype;
        foreach (string module in LoraTargetModules.All)
        {
            var (inF, outF) = LoraTargetModules.Dimensions(config, module);
            _tables[module] = (
                zeros([Layers, slots, maxRank, inF], dtype).DetachFromDisposeScope(),
                zeros([Layers, slots, maxRank, outF], dtype).DetachFromDisposeScope());
        }
        int modules = LoraTargetModules.All.Count;
        _ranks = GC.AllocateArray<int>(Layers * modules * slots, pinned: true);
        _layerViews = new (Tensor, Tensor)[Layers, modules];
        _nativeRefs = GC.AllocateArray<NativeLoraRef>(Layers * modules, pinned: true);
        for (int l = 0; l < Layers; l++)
        {
            for (int m = 0; m < modules; m++)
            {
                var (a, b) = _tables[LoraTargetModules.All[m]];
                var views = _layerViews[l, m] = (a[l].DetachFromDisposeScope(), b[l].DetachFromDisposeScope());
                _nativeRefs[l * modules + m] = new NativeLoraRef
                {
                    ATable = (void*)TensorMemory.DataPointer(views.A),
                    BTable = (void*)TensorMemory.DataPointer(views.B),
                    SlotRanks = (int*)Unsafe.AsPointer(ref _ranks[RankIndex(l, m, 0)]),
                };
            }
        }
        _scales = GC.AllocateArray<float>(slots, pinned: true);
        Array.Fill(_scales, 1f); // the scaling is folded into B at load
    }

    /// <summary>
    /// Whether the tables' widths are <paramref name="config"/>'s projections' (the native decode step reads them
    /// with the model's widths, unchecked; the layer-by-layer path's SGMV checks each call).
    /// </summary>
    internal bool Fits(ModelConfig config)
    {
        if (config.NumHiddenLayers != Layers)
            return false;
        foreach (string module in LoraTargetModules.All)
        {
            var (inF, outF) = LoraTargetModules.Dimensions(config, module);
            var (a, b) = _tables[module];
            if (a.shape[3] != inF || b.shape[3] != outF)
                return false;
        }
        return true;
    }

    private int RankIndex(int layer, int module, int slot) => (layer * LoraTargetModules.All.Count + module) * SlotCount + slot;

    /// <summary>
    /// Each (layer, module)'s tables and ranks as the native decode step reads them, in <see cref="LoraTargetModules.All"/>'s
    /// order within a layer (a pinned array: the address holds while this table lives).
    /// </summary>
    internal NativeLoraRef* NativeRefs
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return (NativeLoraRef*)Unsafe.AsPointer(ref _nativeRefs[0]);
        }
    }

    /// <summary>Each slot's scale (pinned, as <see cref="NativeRefs"/>).</summary>
    internal float* NativeScales => (float*)Unsafe.AsPointer(ref _scales[0]);

    /// <summary>The tables' dtype as the native kernels name it.</summary>
    internal int DtypeCode => Dtype == ScalarType.Float32 ? NativeMethods.DtypeF32 : NativeMethods.DtypeBf16;

    private bool _disposed;

    public int SlotCount { get; }
    public int MaxRank { get; }
    public int Layers { get; }
    public ScalarType Dtype { get; }

    /// <summary>Bytes of the A and Bᵀ tables, every projection and layer (allocated whole, used or not).</summary>
    public long Bytes => _tables.Values.Sum(t => t.A.NumberOfElements * t.A.ElementSize + t.B.NumberOfElements * t.B.ElementSize);

    /// <summary>Copies an adapter's weights into <paramref name="slot"/>, replacing whatever was there.</summary>
    public void Load(int slot, PeftAdapter adapter)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, SlotCount);
        if (adapter.Rank > MaxRank)
            throw new ArgumentException($"adapter {adapter.Name} has rank {adapter.Rank}; the slot table holds ranks up to {MaxRank}.", nameof(adapter));
        if (adapter.NumLayers != Layers)
            throw new ArgumentException($"adapter {adapter.Name} was validated for {adapter.NumLayers} layers; this model has {Layers}.", nameof(adapter));
        Clear(slot);
        foreach (var w in adapter.Weights)
        {
            var (a, b) = _tables[w.Module];
            using var aRows = a[w.Layer, slot].narrow(0, 0, w.Rank);
            using var bRows = b[w.Layer, slot].narrow(0, 0, w.Rank);
            using var bT = w.B.t();
            aRows.copy_(w.A);
            bRows.copy_(bT);
            SetRank(w.Layer, LoraTargetModules.IndexOf(w.Module), slot, w.Rank);
        }
    }

    /// <summary>
    /// Copies a prepared adapter into <paramref name="slot"/>: one native row copy per layer, factor
    /// and projection on the engine thread, between steps (libtorch's copy_ would wake its thread
    /// pool for each, and a view per copy cost more than the copy).
    /// </summary>
    public void Load(int slot, PreparedAdapter adapter)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, SlotCount);
        if (adapter.Rank > MaxRank)
            throw new ArgumentException($"adapter {adapter.Info.Name} has rank {adapter.Rank}; the slot table holds ranks up to {MaxRank}.", nameof(adapter));
        if (adapter.Ranks.GetLength(0) != Layers)
            throw new ArgumentException($"adapter {adapter.Info.Name} was prepared for {adapter.Ranks.GetLength(0)} layers; this model has {Layers}.", nameof(adapter));
        Clear(slot);
        foreach (var (module, (preparedA, preparedBt)) in adapter.Modules)
        {
            int m = LoraTargetModules.IndexOf(module);
            var (a, b) = _tables[module];
            bool Targeted(int layer) => adapter.Ranks[layer, m] > 0; // rank-0 layers are never read
            StridedCopy.CopyIntoSlot(preparedA, a, slot, Targeted);
            StridedCopy.CopyIntoSlot(preparedBt, b, slot, Targeted);
        }
        for (int l = 0; l < Layers; l++)
            for (int m = 0; m < LoraTargetModules.All.Count; m++)
                SetRank(l, m, slot, adapter.Ranks[l, m]);
    }

    /// <summary>Marks the slot empty (its rows are never read again until the next load).</summary>
    public void Clear(int slot)
    {
        for (int l = 0; l < Layers; l++)
            for (int m = 0; m < LoraTargetModules.All.Count; m++)
                SetRank(l, m, slot, 0);
    }

    private void SetRank(int layer, int module, int slot, int rank)
    {
        _ranks[RankIndex(layer, module, slot)] = rank;
    }

    /// <summary>
    /// y += x · Aᵀ · B for each segment's slot, for one projection of one layer. x and y may be
    /// column slices; <paramref name="segmentSlots"/> entries of -1 (or slots the adapter does not
    /// target here) leave their rows alone.
    /// </summary>
    public void Apply(int layer, string module, Tensor x, Tensor y, int[] segmentStarts, int[] segmentSlots)
    {
        int m = LoraTargetModules.IndexOf(module);
        var slots = new int[segmentSlots.Length];
        bool any = false;
        for (int i = 0; i < slots.Length; i++)
        {
            int s = segmentSlots[i];
            // A slot outside the table goes on to the kernel's check, which names it.
            slots[i] = s >= SlotCount || (s >= 0 && _ranks[RankIndex(layer, m, s)] > 0) ? s : -1;
            any |= slots[i] >= 0;
        }
        if (!any)
            return;
        var (aLayer, bLayer) = _layerViews[layer, m];
        // The kernel reads the ranks of the slots the segments use, which the filter above left at 1 or more.
        SgmvKernel.Apply(x, y, segmentStarts, slots, aLayer, bLayer, _ranks.AsSpan(RankIndex(layer, m, 0), SlotCount), _scales);
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var (a, b) in _layerViews)
        {
            a.Dispose();
            b.Dispose();
        }
        foreach (var (a, b) in _tables.Values)
        {
            a.Dispose();
            b.Dispose();
        }
    }
}
