namespace OrleansLora.Engine.Runners;

/// <summary>
/// The logits a forward returns: one row of <see cref="VocabSize"/> float32 values per batch
/// sequence, in host memory. Rows may be read from several threads at once; the memory belongs to
/// the runner until <see cref="Dispose"/>.
/// </summary>
public abstract class ModelLogits(int rows, int vocabSize, (int[] Rows, int[] RowStart, int[] Counts)? tokenRows = null) : IDisposable
{
    public int Rows { get; } = rows;
    public int VocabSize { get; } = vocabSize;

    /// <summary>The batch's <see cref="ModelBatch.TokenRowLayout"/>, when the runner returned token rows; else null.</summary>
    protected (int[] Rows, int[] RowStart, int[] Counts)? TokenRows { get; } = tokenRows;

    /// <summary>Sequence <paramref name="row"/>'s logits for its last token.</summary>
    public abstract ReadOnlySpan<float> Row(int row);

    /// <summary>
    /// The logits after token <paramref name="token"/> (0-based within the sequence's tokens of this batch) of sequence
    /// <paramref name="sequence"/>, which <see cref="ModelBatch.TokenLogits"/> flagged.
    /// </summary>
    public virtual ReadOnlySpan<float> TokenRow(int sequence, int token) =>
        throw new NotSupportedException($"{GetType().Name} returns each sequence's last-token logits only.");

    public abstract void Dispose();

    /// <summary>
    /// For runners that put the flagged sequences' token rows after the last-token rows
    /// (<see cref="ModelBatch.TokenRowLayout"/>, given to the constructor): the row holding token
    /// <paramref name="token"/> of <paramref name="sequence"/>.
    /// </summary>
    protected long TokenRowIndex(int sequence, int token)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(sequence, Rows);
        if (TokenRows is not { } layout || layout.RowStart[sequence] < 0)
            throw new InvalidOperationException($"sequence {sequence} was not flagged for token logits in this batch.");
        ArgumentOutOfRangeException.ThrowIfNegative(token);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(token, layout.Counts[sequence]);
        return layout.RowStart[sequence] + token;
    }
}
