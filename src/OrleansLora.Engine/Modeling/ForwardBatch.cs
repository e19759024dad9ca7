using static TorchSharp.torch;

namespace OrleansLora.Engine.Modeling;

/// <summary>
/// Tokens of several sequences packed into one flat row dimension ([tokens]), in the order of
/// <see cref="Sequences"/>. Built once per step on the CPU; the model reads index tensors from it.
/// </summary>
public sealed class ForwardBatch : IDisposable
{
    public ForwardBatch(IReadOnlyList<BatchSequence> sequences, ReadOnlySpan<int> tokens, int maxSequenceLength, Device? device = null)
    {
        if (sequences.Count == 0)
            throw new ArgumentException("a batch needs at least one sequence.", nameof(sequences));
        int total = 0;
        foreach (var s in sequences)
        {
            if (s.TokenCount < 1)
                throw new ArgumentException($"sequence in slot {s.Slot} has {s.TokenCount} tokens.", nameof(sequences));
            if (s.StartPosition < 0 || s.StartPosition + s.TokenCount > maxSequenceLength)
                throw new ArgumentException($"sequence in slot {s.Slot} spans positions [{s.StartPosition}, {s.StartPosition + s.TokenCount}), beyond the context of {maxSequenceLength}.", nameof(sequences));
            total += s.TokenCount;
        }
        if (tokens.Length != total)
            throw new ArgumentException($"{tokens.Length} tokens given for sequences totalling {total}.", nameof(tokens));

        Sequences = sequences;
        TokenCount = total;
        var positions = new long[total];
        var slots = new long[total];
        var lastRows = new long[sequences.Count];
        SegmentStarts = new int[sequences.Count + 1];
        SegmentAdapterSlots = new int[sequences.Count];
        var ids = new long[total];
        int row = 0;
        for (int i = 0; i < sequences.Count; i++)
        {
            var s = sequences[i];
            SegmentStarts[i] = row;
            SegmentAdapterSlots[i] = s.AdapterSlot;
            HasAdapters |= s.AdapterSlot >= 0;
            for (int t = 0; t < s.TokenCount; t++, row++)
            {
                positions[row] = s.StartPosition + t;
                slots[row] = s.Slot;
                ids[row] = tokens[row];
            }
            lastRows[i] = row - 1;
        }
        SegmentStarts[sequences.Count] = row;
        _device = device ?? CPU;
        TokenIdArray = ids;
        PositionArray = positions;
        _slots = slots;
        _lastRows = lastRows;
    }

    private readonly Device _device;
    private readonly long[] _slots, _lastRows;
    private Tensor? _tokenIds, _positionTensor, _slotTensor, _lastRowTensor;

    public IReadOnlyList<BatchSequence> Sequences { get; }
    public int TokenCount { get; }

    // The index tensors are made on first use (by the thread that runs the forward): a decode step on the model's
    // buffers reads the arrays instead and allocates none of them.
    public Tensor TokenIds => _tokenIds ??= Index(TokenIdArray);   // [tokens]
    public Tensor Positions => _positionTensor ??= Index(PositionArray); // [tokens]
    public Tensor Slots => _slotTensor ??= Index(_slots);           // [tokens]
    public Tensor LastRows => _lastRowTensor ??= Index(_lastRows);  // [sequences]
    internal long[] TokenIdArray { get; }
    internal long[] PositionArray { get; }

    private int[]? _positionIndices;

    /// <summary>Each token's position as the fused RoPE reads it (rows of the full tables).</summary>
    internal int[] PositionIndices => _positionIndices ??= Array.ConvertAll(PositionArray, p => (int)p);

    private Tensor Index(long[] values)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return tensor(values, dtype: ScalarType.Int64, device: _device).DetachFromDisposeScope();
    }

    private bool _disposed;

    /// <summary>Row where each sequence starts, then the total: the SGMV segments.</summary>
    internal int[] SegmentStarts { get; }

    private int[]? _rowIndices;

    /// <summary>0, 1, …, tokens − 1: each token's row of tables gathered per token (the fused RoPE reads them so), built once for all layers.</summary>
    internal int[] RowIndices => _rowIndices ??= [.. Enumerable.Range(0, TokenCount)];
    /// <summary>Each sequence's adapter slot (-1: base model).</summary>
    internal int[] SegmentAdapterSlots { get; }
    internal bool HasAdapters { get; }

    private AttentionPlan? _plan;

    /// <summary>Index tensors and masks for attention, built by the first layer and reused by the rest.</summary>
    internal AttentionPlan AttentionPlan(int? window) => _plan ??= new AttentionPlan(this, window);

    /// <summary>Every sequence brings one token: a decode step.</summary>
    internal bool AllDecode => TokenCount == Sequences.Count;

    private PagedAttentionPlan? _pagedPlan;

    /// <summary>The paged kernels' arrays (block tables, slot mapping), built by the first layer and reused by the rest.</summary>
    internal PagedAttentionPlan PagedPlan(int blockSize) => _pagedPlan ??= new PagedAttentionPlan(this, blockSize);

    public void Dispose()
    {
        _disposed = true;
        _plan?.Dispose();
        _tokenIds?.Dispose();
        _positionTensor?.Dispose();
        _slotTensor?.Dispose();
        _lastRowTensor?.Dispose();
    }
}
