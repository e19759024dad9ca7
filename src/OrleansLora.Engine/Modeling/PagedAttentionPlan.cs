namespace OrleansLora.Engine.Modeling;

/// <summary>
/// The arrays the native paged kernels read for one batch, built once per forward and shared by
/// every layer: each token's cache slot (block × blockSize + row), the block tables padded to one
/// stride, each sequence's context length after this step and its first query row.
/// </summary>
internal sealed class PagedAttentionPlan
{
    public PagedAttentionPlan(ForwardBatch batch, int blockSize)
    {
        int n = batch.Sequences.Count;
        for (int i = 0; i < n; i++)
        {
            var s = batch.Sequences[i];
            MaxBlocks = Math.Max(MaxBlocks, (s.StartPosition + s.TokenCount + blockSize - 1) / blockSize);
        }
        BlockTables = new int[n * MaxBlocks];
        Array.Fill(BlockTables, -1);
        ContextLengths = new int[n];
        QueryStarts = new int[n + 1];
        SlotMapping = new long[batch.TokenCount];
        AllDecode = true;
        int row = 0;
        for (int i = 0; i < n; i++)
        {
            var s = batch.Sequences[i];
            var table = s.BlockTable ?? throw new ArgumentException($"sequence {i} of a paged batch has no block table.", nameof(batch));
            int length = s.StartPosition + s.TokenCount;
            int used = (length + blockSize - 1) / blockSize;
            table.AsSpan(0, used).CopyTo(BlockTables.AsSpan(i * MaxBlocks, used));
            ContextLengths[i] = length;
            QueryStarts[i] = row;
            AllDecode &= s.TokenCount == 1;
            for (int p = s.StartPosition; p < length; p++, row++)
                SlotMapping[row] = (long)table[p / blockSize] * blockSize + p % blockSize;
        }
        QueryStarts[n] = row;
    }

    public int MaxBlocks { get; }
    public int[] BlockTables { get; }
    public int[] ContextLengths { get; }
    public int[] QueryStarts { get; }
    public long[] SlotMapping { get; }

    /// <summary>Every sequence has one query row: the decode kernel serves the batch.</summary>
    public bool AllDecode { get; }
}
