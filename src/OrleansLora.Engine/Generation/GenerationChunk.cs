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

    /// <summary>
    /// With <see cref="SamplingParams.PromptLogprobs"/> set, on the first chunk only: one entry per prompt token, in order.
    /// The first token has no context to be predicted from: its entry's logprob is NaN and it has no alternatives.
    /// </summary>
    public IReadOnlyList<SampleLogprobs>? PromptLogprobs { get; init; }

    public bool IsFinal => FinishReason is not null;
}
