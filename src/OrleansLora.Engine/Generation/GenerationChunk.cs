using OrleansLora.Engine.Sampling;

namespace OrleansLora.Engine.Generation;

/// <summary>
/// One streamed piece of a generation: the text that became final with this step (possibly empty
/// while a multi-byte character or a possible stop sequence is held back), the token ids generated,
/// and on the last chunk the finish reason and usage.
/// </summary>
public sealed record GenerationChunk(string TextDelta, IReadOnlyList<int> TokenIds, FinishReason? FinishReason = null, GenerationUsage? Usage = null)
{
    /// <summary>With <see cref="SamplingParams.Logprobs"/> set: one entry per token of <see cref="TokenIds"/>; else null.</summary>
    public IReadOnlyList<SampleLogprobs>? Logprobs { get; init; }

    public bool IsFinal => FinishReason is not null;
}
