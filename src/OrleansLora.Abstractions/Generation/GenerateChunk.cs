namespace OrleansLora.Generation;

/// <summary>
/// A streamed piece of a generation: the text that became final (possibly empty while a multi-byte
/// character or a possible stop sequence is held back) and the token ids; the last chunk carries the
/// finish reason and usage.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record GenerateChunk(
    [property: Id(0)] string TextDelta,
    [property: Id(1)] IReadOnlyList<int> TokenIds,
    [property: Id(2)] GenerateFinishReason? FinishReason = null,
    [property: Id(3)] GenerateUsage? Usage = null)
{
    /// <summary>With <see cref="GenerateRequest.Logprobs"/> set: one entry per token of <see cref="TokenIds"/>; else null.</summary>
    [Id(4)] public IReadOnlyList<GeneratedLogprobs>? Logprobs { get; init; }

    /// <summary>
    /// With <see cref="GenerateRequest.PromptLogprobs"/> set, on the first chunk only: one entry per prompt token. The
    /// first token is predicted from nothing: its logprob is NaN and it has no alternatives.
    /// </summary>
    [Id(5)] public IReadOnlyList<GeneratedLogprobs>? PromptLogprobs { get; init; }

    /// <summary>
    /// The adapter grain's first chunk of every generation, sent as soon as it holds the request (before placement,
    /// queueing or any token); it carries nothing else. <see cref="GenerationStart"/> consumes it: callers never see it.
    /// </summary>
    [Id(6)] public bool IsAcceptance { get; init; }

    /// <summary>The acknowledgement chunk (<see cref="IsAcceptance"/>).</summary>
    public static GenerateChunk Acceptance { get; } = new(string.Empty, []) { IsAcceptance = true };

    public bool IsFinal => FinishReason is not null;
}
