using OrleansLora.Engine.Runners;

namespace OrleansLora.Engine.Cuda;

/// <summary>
/// The logits one CUDA forward copied to the host: a float32 array <c>[rows + token rows, vocab]</c>, each sequence's
/// last-token row first (row i for sequence i), then the token rows of the sequences <see cref="ModelBatch.TokenLogits"/>
/// flagged. The array is the runner's, reused by its next forward (the caller disposes this before then).
/// </summary>
internal sealed class CudaLogits : ModelLogits
{
    private readonly float[] _values;

    public CudaLogits(float[] values, int rows, int vocabSize, (int[] Rows, int[] RowStart, int[] Counts)? tokenRows) : base(rows, vocabSize, tokenRows)
    {
        _values = values;
    }

    public override ReadOnlySpan<float> Row(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Rows);
        return _values.AsSpan((int)((long)row * VocabSize), VocabSize);
    }

    public override ReadOnlySpan<float> TokenRow(int sequence, int token) =>
        _values.AsSpan((int)(TokenRowIndex(sequence, token) * VocabSize), VocabSize);

    /// <summary>Whether the caller is done with it (the runner may then reuse the array).</summary>
    public bool Disposed { get; private set; }

    public override void Dispose() => Disposed = true;
}
