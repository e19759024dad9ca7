using OrleansLora.Engine.Native;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Runners;

/// <summary>A forward's float32 logits tensor <c>[rows, vocab]</c>, read in place (no copy) until disposed.</summary>
internal sealed class TensorLogits : ModelLogits
{
    private readonly Tensor _logits;
    private readonly nint _data;

    private readonly int[]? _tokenRowStart; // per sequence: its first token row after the last-token rows, or -1
    private readonly int[]? _tokenCount;

    /// <param name="tokenRowStart">Per sequence, where its token rows start (-1: none), for <see cref="TokenRow"/>.</param>
    /// <param name="tokenCount">Per sequence, its tokens in the batch.</param>
    public TensorLogits(Tensor logits, int rows, int vocabSize, int[]? tokenRowStart = null, int[]? tokenCount = null) : base(rows, vocabSize)
    {
        int extra = tokenRowStart is null ? 0 : tokenRowStart.Select((start, i) => start < 0 ? 0 : tokenCount![i]).Sum();
        TensorChecks.Require(logits, nameof(logits), ScalarType.Float32, rows + extra, vocabSize);
        _tokenRowStart = tokenRowStart;
        _tokenCount = tokenCount;
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
        new((float*)_data + TokenRowIndex(sequence, token, _tokenRowStart, _tokenCount) * VocabSize, VocabSize);

    public override void Dispose() => _logits.Dispose();
}
