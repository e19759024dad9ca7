using OrleansLora.Engine.Native;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Runners;

/// <summary>A forward's float32 logits tensor <c>[rows, vocab]</c>, read in place (no copy) until disposed.</summary>
internal sealed class TensorLogits : ModelLogits
{
    private readonly Tensor _logits;
    private readonly nint _data;

    public TensorLogits(Tensor logits, int rows, int vocabSize) : base(rows, vocabSize)
    {
        TensorChecks.Require(logits, nameof(logits), ScalarType.Float32, rows, vocabSize);
        _logits = logits;
        _data = TensorMemory.DataPointer(logits);
    }

    public override unsafe ReadOnlySpan<float> Row(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Rows);
        return new ReadOnlySpan<float>((float*)_data + (long)row * VocabSize, VocabSize);
    }

    public override void Dispose() => _logits.Dispose();
}
