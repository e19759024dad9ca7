namespace OrleansLora.Generation;

/// <summary>
/// A prompt — text, chat messages or token ids, exactly one — and how to continue it. Checked on the
/// worker; a bad value is refused with <see cref="Errors.InvalidRequestException"/> naming the parameter.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record GenerateRequest
{
    [Id(0)] public string? Prompt { get; init; }
    [Id(1)] public IReadOnlyList<ChatMessageItem>? Messages { get; init; }
    [Id(2)] public IReadOnlyList<int>? PromptTokenIds { get; init; }
    [Id(3)] public int MaxTokens { get; init; } = 256;
    /// <summary>0 is greedy.</summary>
    [Id(4)] public float Temperature { get; init; } = 1f;
    [Id(5)] public float TopP { get; init; } = 1f;
    /// <summary>0 disables top-k.</summary>
    [Id(6)] public int TopK { get; init; }
    [Id(7)] public float RepetitionPenalty { get; init; } = 1f;
    [Id(8)] public float PresencePenalty { get; init; }
    [Id(9)] public float FrequencyPenalty { get; init; }
    [Id(10)] public ulong? Seed { get; init; }
    [Id(11)] public IReadOnlyList<string> Stop { get; init; } = [];
    [Id(12)] public bool IgnoreEos { get; init; }
    [Id(13)] public string RequestId { get; init; } = Guid.NewGuid().ToString("n");
    /// <summary>Prepend BOS to a text prompt (chat templates decide for themselves).</summary>
    [Id(14)] public bool AddBos { get; init; } = true;
    /// <summary>Grammar-constrained decoding (JSON, JSON Schema, regex, choice); null: free text.</summary>
    [Id(15)] public OutputConstraint? Constraint { get; init; }
    /// <summary>OpenAI tool definitions as a JSON array, rendered through the chat template's <c>tools</c>; null: none.</summary>
    [Id(16)] public string? Tools { get; init; }
    /// <summary>
    /// Null: no log-probabilities. k in [0, 20]: every chunk carries, per token, the chosen token's log-probability and
    /// the k most likely tokens' (<see cref="GenerateChunk.Logprobs"/>).
    /// </summary>
    [Id(17)] public int? Logprobs { get; init; }
    /// <summary>
    /// Samples of one prompt sent as separate requests to one adapter (OpenAI's <c>n</c>) share this key, so the engine
    /// prefills the prompt once and copies its keys and values to the others (where the runner can); null: none.
    /// </summary>
    [Id(18)] public string? PrefixGroup { get; init; }
    /// <summary>
    /// Null: none. k in [0, 20]: the first chunk carries every prompt token's log-probability given the tokens before it,
    /// with the k most likely tokens at each position (<see cref="GenerateChunk.PromptLogprobs"/>); the prompt is then
    /// computed in full (no prefix-cache reuse).
    /// </summary>
    [Id(19)] public int? PromptLogprobs { get; init; }
}
