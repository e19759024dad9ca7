using OrleansLora.Engine.Models;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Caching;

/// <summary>
/// Keys and values of every layer in blocks of <see cref="BlockSize"/> positions from one budget:
/// per layer one K and one V pool <c>[blocks, kvHeads, blockSize, headDim]</c>, the layout of the
/// native paged kernels (olora_kv_append, olora_paged_attention_*). Which block holds which
/// sequence's positions is decided above, by a <see cref="KvBlockAllocator"/>; the cache only holds
/// the memory. float32 pools for float32 (and float16) compute, bfloat16 pools for bfloat16.
/// </summary>
public sealed class PagedKvCache : IKvCache
{
    private readonly Tensor[] _keys;
    private readonly Tensor[] _values;

    /// <param name="maxBlocks">At most this many blocks, whatever the budget allows (0: no limit).</param>
    public PagedKvCache(ModelConfig config, long budgetBytes, int blockSize, int maxSequenceLength, long maxBlocks, ScalarType computeDtype)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSequenceLength, 1);
        Dtype = computeDtype == ScalarType.BFloat16 ? ScalarType.BFloat16 : ScalarType.Float32;
        long elementSize = Dtype == ScalarType.Float32 ? 4 : 2;
        BlockSize = blockSize;
        MaxSequenceLength = maxSequenceLength;
        KvHeads = config.NumKeyValueHeads;
        HeadDim = config.HeadDim;
        BytesPerBlock = 2L * config.NumHiddenLayers * KvHeads * blockSize * HeadDim * elementSize;
        long blocks = budgetBytes / BytesPerBlock;
        if (maxBlocks > 0)
            blocks = Math.Min(blocks, maxBlocks);
        int perSequence = (maxSequenceLength + blockSize - 1) / blockSize;
        if (blocks < perSequence)
            throw new ArgumentException(
                $"KV cache budget of {budgetBytes} bytes holds {blocks} blocks of {blockSize} positions ({BytesPerBlock} bytes each); one sequence of {maxSequenceLength} positions needs {perSequence}. Raise the budget or lower MaxSequenceLength.",
                nameof(budgetBytes));
        BlockCount = (int)Math.Min(blocks, int.MaxValue);
        _keys = new Tensor[config.NumHiddenLayers];
        _values = new Tensor[config.NumHiddenLayers];
        long[] shape = [BlockCount, KvHeads, blockSize, HeadDim];
        for (int i = 0; i < config.NumHiddenLayers; i++)
        {
            _keys[i] = zeros(shape, Dtype).DetachFromDisposeScope();
            _values[i] = zeros(shape, Dtype).DetachFromDisposeScope();
        }
        _keyPools = Array.ConvertAll(_keys, Native.TensorMemory.DataPointer);
        _valuePools = Array.ConvertAll(_values, Native.TensorMemory.DataPointer);
    }

    // Each layer's pools' data, read once (they never move): the native decode step takes them as arrays.
    private readonly nint[] _keyPools;
    private readonly nint[] _valuePools;
    private bool _disposed;

    /// <summary>The layers' K and V pools' data pointers, for a native call made while this cache is alive.</summary>
    internal (nint[] Keys, nint[] Values) PoolPointers
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return (_keyPools, _valuePools);
        }
    }

    public int BlockSize { get; }
    public int BlockCount { get; }
    public int MaxSequenceLength { get; }
    public int KvHeads { get; }
    public int HeadDim { get; }
    public long BytesPerBlock { get; }

    /// <summary>The pools' dtype: float32 or bfloat16.</summary>
    public ScalarType Dtype { get; }

    public KvBlockLayout Layout => new(BlockSize, BlockCount);

    public Tensor Keys(int layer) => _keys[layer];
    public Tensor Values(int layer) => _values[layer];

    /// <summary>Copies whole blocks (keys and values of every layer) for each (source, destination) pair, in order.</summary>
    public unsafe void CopyBlocks(int[] sourceDestinationPairs)
    {
        ArgumentNullException.ThrowIfNull(sourceDestinationPairs);
        if (sourceDestinationPairs.Length % 2 != 0)
            throw new ArgumentException("block copies come in (source, destination) pairs.", nameof(sourceDestinationPairs));
        if (sourceDestinationPairs.Length == 0)
            return;
        int code = Dtype == ScalarType.Float32 ? Native.NativeMethods.DtypeF32 : Native.NativeMethods.DtypeBf16;
        fixed (int* pairs = sourceDestinationPairs)
        {
            for (int layer = 0; layer < _keys.Length; layer++)
            {
                int rc = Native.NativeMethods.KvCopyBlocks(code, (void*)Native.TensorMemory.DataPointer(_keys[layer]), (void*)Native.TensorMemory.DataPointer(_values[layer]),
                    BlockCount, BlockSize, KvHeads, HeadDim, pairs, sourceDestinationPairs.Length / 2);
                if (rc != Native.NativeStatus.Ok)
                    throw new ArgumentException($"olora_kv_copy_blocks refused the copies: {Native.NativeStatus.Describe(rc)} ({rc}); blocks must be distinct and in [0, {BlockCount}).", nameof(sourceDestinationPairs));
            }
        }
        GC.KeepAlive(_keys);
        GC.KeepAlive(_values);
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var t in _keys.Concat(_values))
            t.Dispose();
    }
}
