namespace OrleansLora.Engine.Runners;

/// <summary>
/// The logits a forward returns: one row of <see cref="VocabSize"/> float32 values per batch
/// sequence, in host memory. Rows may be read from several threads at once; the memory belongs to
/// the runner until <see cref="Dispose"/>.
/// </summary>
public abstract class ModelLogits(int rows, int vocabSize) : IDisposable
{
    public int Rows { get; } = rows;
    public int VocabSize { get; } = vocabSize;

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
    /// For runners that put the flagged sequences' token rows after the last-token rows: the row holding token
    /// <paramref name="token"/> of <paramref name="sequence"/>, given where each sequence's token rows start (-1: not
    /// flagged) and how many tokens each has.
    /// </summary>
    protected long TokenRowIndex(int sequence, int token, int[]? tokenRowStart, int[]? tokenCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(sequence, Rows);
        if (tokenRowStart is null || tokenRowStart[sequence] < 0)
            throw new InvalidOperationException($"sequence {sequence} was not flagged for token logits in this batch.");
        ArgumentOutOfRangeException.ThrowIfNegative(token);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(token, tokenCount![sequence]);
        return tokenRowStart[sequence] + token;
    }
}
