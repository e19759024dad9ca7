namespace OrleansLora.Engine.Runners;

/// <summary>Logits in a managed array <c>[rows × vocab]</c>, for runners that copy them off their device.</summary>
public sealed class ArrayLogits(float[] values, int rows, int vocabSize) : ModelLogits(rows, vocabSize)
{
    public override ReadOnlySpan<float> Row(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Rows);
        return values.AsSpan(row * VocabSize, VocabSize);
    }

    public override void Dispose()
    {
    }
}
