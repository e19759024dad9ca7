using OrleansLora.Engine.Modeling;

namespace OrleansLora.Engine.Runners;

/// <summary>
/// One forward's work as plain arrays: the tokens of several sequences packed in one row dimension,
/// in the order of <see cref="Sequences"/> (each names its KV slot, first position, token count and
/// adapter slot), and which sequences need logits (a prompt chunk that does not reach the prompt's
/// end needs none).
/// </summary>
public sealed class ModelBatch
{
    public ModelBatch(IReadOnlyList<BatchSequence> sequences, int[] tokenIds, bool[] needsLogits)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(tokenIds);
        ArgumentNullException.ThrowIfNull(needsLogits);
        if (needsLogits.Length != sequences.Count)
            throw new ArgumentException($"{needsLogits.Length} logits flags given for {sequences.Count} sequences.", nameof(needsLogits));
        Sequences = sequences;
        TokenIds = tokenIds;
        NeedsLogits = needsLogits;
    }

    public IReadOnlyList<BatchSequence> Sequences { get; }

    /// <summary>[tokens]: every sequence's tokens, one after another.</summary>
    public int[] TokenIds { get; }

    /// <summary>[sequences]: whether the caller reads that sequence's row of logits.</summary>
    public bool[] NeedsLogits { get; }
}
