using OrleansLora.Engine.Native;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Runners;

/// <summary>A forward's float32 logits tensor <c>[rows, vocab]</c>, read in place (no copy) until disposed.</summary>
internal sealed class TensorLogits : ModelLogits
{
    private readonly Tensor _logits;
    private readonly nint _data;

    /// <param name="tokenRows">The batch's <see cref="ModelBatch.TokenRowLayout"/>: its rows follow the last-token rows.</param>
    public TensorLogits(Tensor logits, int rows, int vocabSize, (int[] Rows, int[] RowStart, int[] Counts)? tokenRows = null) : base(rows, vocabSize, tokenRows)
    {
        TensorChecks.Require(logits, nameof(logits), ScalarType.Float32, rows + (tokenRows?.Rows.Length ?? 0), vocabSize);
        _logits = logits;
        _data = TensorMemory.DataPointer(logits);
    }

    public override unsafe ReadOnlySpan<float> Row(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Rows);
        return new ReadOnlySpan<float>((float*)_data + (long)row * VocabSize, VocabSize);
    }

    public override unsafe ReadOnlySpan<float> TokenRow(int sequence, int token) =>
        new((float*)_data + TokenRowIndex(sequence, token) * VocabSize, VocabSize);

    public override void Dispose() => _logits.Dispose();
}
