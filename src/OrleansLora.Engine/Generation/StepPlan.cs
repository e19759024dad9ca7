using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Runners;

namespace OrleansLora.Engine.Generation;

/// <summary>
/// What one step computes, chosen by <see cref="BatchScheduler.PlanStep"/>: the running sequences in
/// the batch (decodes first), each one's part (KV slot, first position, token count, adapter slot),
/// and which of them will have a token to sample afterwards.
/// </summary>
internal sealed class StepPlan(List<SequenceState> members, List<BatchSequence> parts, int[] tokens, bool[] needsLogits, bool[]? tokenLogits = null)
{
    public IReadOnlyList<SequenceState> Members => members;
    public IReadOnlyList<BatchSequence> Parts => parts;
    public int TokenCount => tokens.Length;

    /// <summary>The plan as the runner reads it.</summary>
    public ModelBatch ToBatch() => new(parts, tokens, needsLogits, tokenLogits);

    /// <summary>Whether member <paramref name="i"/> gets the logits of each of its tokens (prompt log-probabilities).</summary>
    public bool NeedsTokenLogits(int i) => tokenLogits is not null && tokenLogits[i];

    /// <summary>Whether member <paramref name="i"/>'s pending tokens are all in the cache after this step (it samples).</summary>
    public bool NeedsLogits(int i) => needsLogits[i];
}
