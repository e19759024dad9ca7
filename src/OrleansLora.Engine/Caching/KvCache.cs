using OrleansLora.Engine.Models;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Caching;

/// <summary>
/// Keys and values of every layer, preallocated once from a memory budget as fixed slots of
/// <see cref="MaxSequenceLength"/> positions. A sequence owns one slot from admission to finish;
/// steps write new keys/values in place (no reallocation per token), and a batch of sequences
/// at different positions reads its slots in one gather.
/// </summary>
public sealed class KvCache : IKvCache
{
    private readonly Tensor[] _keys;   // per layer [slots, kvHeads, maxLen, headDim]
    private readonly Tensor[] _values; // per layer [slots, kvHeads, maxLen, headDim]
    private readonly Stack<int> _free;

    public KvCache(ModelConfig config, KvCacheOptions options, ScalarType dtype, Device? device = null)
    {
        MaxSequenceLength = options.MaxSequenceLength > 0
            ? Math.Min(options.MaxSequenceLength, config.MaxPositionEmbeddings)
            : config.MaxPositionEmbeddings;
        long elementSize = dtype == ScalarType.Float32 ? 4 : 2;
        BytesPerSlot = 2L * config.NumHiddenLayers * config.NumKeyValueHeads * MaxSequenceLength * config.HeadDim * elementSize;
        SlotCount = (int)Math.Min(options.MaxSlots, options.BudgetBytes / BytesPerSlot);
        if (SlotCount < 1)
            throw new ArgumentException(
                $"KV cache budget of {options.BudgetBytes} bytes holds no sequence: one slot of {MaxSequenceLength} positions needs {BytesPerSlot} bytes. Raise the budget or lower MaxSequenceLength.",
                nameof(options));
        _keys = new Tensor[config.NumHiddenLayers];
        _values = new Tensor[config.NumHiddenLayers];
        long[] shape = [SlotCount, config.NumKeyValueHeads, MaxSequenceLength, config.HeadDim];
        for (int i = 0; i < config.NumHiddenLayers; i++)
        {
            _keys[i] = zeros(shape, dtype, device).DetachFromDisposeScope();
            _values[i] = zeros(shape, dtype, device).DetachFromDisposeScope();
        }
        _free = new Stack<int>(Enumerable.Range(0, SlotCount).Reverse());
    }

    public int SlotCount { get; }
    public int MaxSequenceLength { get; }
    public long BytesPerSlot { get; }
    public int FreeSlots => _free.Count;

    public Tensor Keys(int layer) => _keys[layer];
    public Tensor Values(int layer) => _values[layer];

    public bool TryAllocate(out int slot) => _free.TryPop(out slot);

    /// <summary>
    /// Copies the keys and values of the first <paramref name="positions"/> positions of slot <paramref name="source"/>
    /// into slot <paramref name="destination"/> (every layer): a sequence that shares a prompt with a running one starts
    /// with its prefill done.
    /// </summary>
    public void Copy(int source, int destination, int positions)
    {
        if ((uint)source >= (uint)SlotCount || (uint)destination >= (uint)SlotCount || source == destination)
            throw new ArgumentOutOfRangeException(nameof(destination), $"slots must be distinct and in [0, {SlotCount}), got {source} and {destination}.");
        ArgumentOutOfRangeException.ThrowIfNegative(positions);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(positions, MaxSequenceLength);
        if (positions == 0)
            return;
        using var scope = NewDisposeScope();
        foreach (var layer in _keys.Concat(_values))
            layer[destination].narrow(1, 0, positions).copy_(layer[source].narrow(1, 0, positions)); // [kvHeads, positions, headDim]
    }

    public void Free(int slot)
    {
        if ((uint)slot >= (uint)SlotCount)
            throw new ArgumentOutOfRangeException(nameof(slot), slot, $"slot must be in [0, {SlotCount}).");
        if (_free.Contains(slot))
            throw new InvalidOperationException($"KV slot {slot} freed twice.");
        _free.Push(slot);
    }

    public void Dispose()
    {
        foreach (var t in _keys.Concat(_values))
            t.Dispose();
    }
}
