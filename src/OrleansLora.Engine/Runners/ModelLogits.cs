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

    public abstract void Dispose();
}
