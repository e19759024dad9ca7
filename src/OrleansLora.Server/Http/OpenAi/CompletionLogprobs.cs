namespace OrleansLora.Server.Http.OpenAi;

/// <summary>
/// A text completion choice's <c>logprobs</c>, in the legacy shape: per generated token its text, its log-probability,
/// a map of the most likely tokens' texts to theirs (the chosen token included, as vLLM adds it), and the offset of
/// the token's text in the completion.
/// </summary>
public sealed record CompletionLogprobs(
    IReadOnlyList<string> Tokens,
    IReadOnlyList<float?> TokenLogprobs,
    IReadOnlyList<IReadOnlyDictionary<string, float>?> TopLogprobs,
    IReadOnlyList<int> TextOffset);
