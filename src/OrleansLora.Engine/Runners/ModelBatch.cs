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
    public ModelBatch(IReadOnlyList<BatchSequence> sequences, int[] tokenIds, bool[] needsLogits, bool[]? tokenLogits = null)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(tokenIds);
        ArgumentNullException.ThrowIfNull(needsLogits);
        if (needsLogits.Length != sequences.Count)
            throw new ArgumentException($"{needsLogits.Length} logits flags given for {sequences.Count} sequences.", nameof(needsLogits));
        if (tokenLogits is not null && tokenLogits.Length != sequences.Count)
            throw new ArgumentException($"{tokenLogits.Length} token-logits flags given for {sequences.Count} sequences.", nameof(tokenLogits));
        Sequences = sequences;
        TokenIds = tokenIds;
        NeedsLogits = needsLogits;
        TokenLogits = tokenLogits is not null && tokenLogits.Contains(true) ? tokenLogits : null;
    }

    public IReadOnlyList<BatchSequence> Sequences { get; }

    /// <summary>[tokens]: every sequence's tokens, one after another.</summary>
    public int[] TokenIds { get; }

    /// <summary>[sequences]: whether the caller reads that sequence's row of logits.</summary>
    public bool[] NeedsLogits { get; }

    /// <summary>
    /// [sequences] or null: which sequences also need the logits of every one of their tokens in this batch
    /// (<see cref="ModelLogits.TokenRow"/>), for prompt log-probabilities. Only runners with
    /// <see cref="IModelRunner.ReturnsTokenLogits"/> are given one.
    /// </summary>
    public bool[]? TokenLogits { get; }

    /// <summary>
    /// Where the runners put prompt log-probability rows: after the <see cref="Sequences"/>.Count last-token rows, the
    /// rows of every token of each <see cref="TokenLogits"/>-flagged sequence, in order. <c>Rows</c>: each such row's index
    /// into <see cref="TokenIds"/>; <c>RowStart</c>: per sequence, the output row of its first token (-1 when not
    /// flagged); <c>Counts</c>: per sequence, its tokens in this batch. Null when no sequence is flagged.
    /// </summary>
    public (int[] Rows, int[] RowStart, int[] Counts)? TokenRowLayout()
    {
        if (TokenLogits is not { } flags)
            return null;
        var rows = new List<int>();
        var rowStart = new int[flags.Length];
        var counts = new int[flags.Length];
        int first = 0;
        for (int i = 0; i < flags.Length; i++)
        {
            int count = Sequences[i].TokenCount;
            counts[i] = count;
            rowStart[i] = flags[i] ? Sequences.Count + rows.Count : -1;
            if (flags[i])
            {
                for (int t = 0; t < count; t++)
                    rows.Add(first + t);
            }
            first += count;
        }
        return ([.. rows], rowStart, counts);
    }
}
