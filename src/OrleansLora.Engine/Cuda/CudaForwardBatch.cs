using OrleansLora.Engine.Runners;

namespace OrleansLora.Engine.Cuda;

/// <summary>
/// A <see cref="ModelBatch"/> as olora_cuda_model_forward takes it: per sequence its first position, token count and
/// adapter slot; the block tables as one int32 matrix (stride = the most blocks any sequence of the batch reaches,
/// shorter rows padded with 0, which the library never reads); and the token rows whose logits come back: every
/// sequence's last token (row i for sequence i, needed or not, so a sequence's numbers never depend on which others
/// are read), then every token of the sequences <see cref="ModelBatch.TokenLogits"/> flags.
/// What only the managed side can know is checked here: the token count against the sequences, each block table
/// covering the positions the step reaches, positions within the runner's length, and no block written by two
/// sequences. Token ids, block ids and adapter slots are the library's to refuse (it validates before any work).
/// </summary>
internal sealed class CudaForwardBatch
{
    private CudaForwardBatch(int[] starts, int[] counts, int[] adapterSlots, int[] blockTables, int stride, int[] logitRows, (int[] Rows, int[] RowStart, int[] Counts)? tokenRows)
    {
        Starts = starts;
        Counts = counts;
        AdapterSlots = adapterSlots;
        BlockTables = blockTables;
        BlockTableStride = stride;
        LogitRows = logitRows;
        TokenRows = tokenRows;
    }

    public int[] Starts { get; }
    public int[] Counts { get; }
    public int[] AdapterSlots { get; }

    /// <summary>[sequences, <see cref="BlockTableStride"/>]: position p of sequence i is in block [i * stride + p / blockSize].</summary>
    public int[] BlockTables { get; }
    public int BlockTableStride { get; }

    /// <summary>[logit rows]: indices into the batch's tokens.</summary>
    public int[] LogitRows { get; }

    /// <summary>The batch's <see cref="ModelBatch.TokenRowLayout"/> (null when no sequence is flagged): those rows follow the last-token rows.</summary>
    public (int[] Rows, int[] RowStart, int[] Counts)? TokenRows { get; }

    public static CudaForwardBatch Pack(ModelBatch batch, int blockSize, int maxSequenceLength)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var sequences = batch.Sequences;
        int n = sequences.Count;
        if (n == 0)
            throw new ArgumentException("the batch has no sequences.", nameof(batch));
        var starts = new int[n];
        var counts = new int[n];
        var slots = new int[n];
        var needed = new int[n];
        long tokens = 0;
        int stride = 0;
        var written = new HashSet<int>();
        for (int i = 0; i < n; i++)
        {
            var s = sequences[i];
            if (s.TokenCount < 1 || s.StartPosition < 0)
                throw new ArgumentException($"sequence {i} (handle {s.Slot}) has {s.TokenCount} tokens at position {s.StartPosition}; each needs at least one token at a position >= 0.", nameof(batch));
            long end = (long)s.StartPosition + s.TokenCount;
            if (end > maxSequenceLength)
                throw new ArgumentException($"sequence {i} (handle {s.Slot}) reaches position {end}, past this runner's {maxSequenceLength}.", nameof(batch));
            var table = s.BlockTable ?? throw new ArgumentException($"sequence {i} (handle {s.Slot}) has no block table; the CUDA runner's KV cache is paged.", nameof(batch));
            int blocks = (int)((end + blockSize - 1) / blockSize);
            if (table.Length < blocks)
                throw new ArgumentException($"sequence {i} (handle {s.Slot}) reaches position {end} but its block table holds {table.Length} blocks of {blockSize}.", nameof(batch));
            // Blocks written this step: two sequences writing one would mix their keys (shared prefix blocks are only read).
            for (int b = s.StartPosition / blockSize; b < blocks; b++)
            {
                if (!written.Add(table[b]))
                    throw new ArgumentException($"KV block {table[b]} is written by two sequences of one batch.", nameof(batch));
            }
            starts[i] = s.StartPosition;
            counts[i] = s.TokenCount;
            slots[i] = s.AdapterSlot;
            needed[i] = blocks;
            stride = Math.Max(stride, blocks);
            tokens += s.TokenCount;
        }
        if (tokens != batch.TokenIds.Length)
            throw new ArgumentException($"the sequences hold {tokens} tokens but the batch has {batch.TokenIds.Length} token ids.", nameof(batch));

        var tables = new int[n * stride]; // padded with block 0, never read past a sequence's own blocks
        for (int i = 0; i < n; i++)
            Array.Copy(sequences[i].BlockTable!, 0, tables, i * stride, needed[i]);

        var layout = batch.TokenRowLayout();
        var rows = new int[n + (layout?.Rows.Length ?? 0)];
        int first = 0;
        for (int i = 0; i < n; i++)
        {
            first += counts[i];
            rows[i] = first - 1;
        }
        layout?.Rows.CopyTo(rows, n);
        return new CudaForwardBatch(starts, counts, slots, tables, stride, rows, layout);
    }
}
