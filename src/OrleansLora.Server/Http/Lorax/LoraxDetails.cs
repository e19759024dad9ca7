using System.Text.Json.Serialization;

namespace OrleansLora.Server.Http.Lorax;

/// <summary><c>details</c>: finish_reason is "length", "eos_token" or "stop_sequence"; tokens and top_tokens only when not streamed.</summary>
public sealed record LoraxDetails(string FinishReason, int PromptTokens, int GeneratedTokens, ulong? Seed)
{
    /// <summary>With <c>decoder_input_details</c>: the prompt's tokens and their log-probabilities (the first: null).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<LoraxPrefillToken>? Prefill { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<LoraxToken>? Tokens { get; init; }

    /// <summary>With <c>top_n_tokens</c>: per generated token, the most likely tokens at its position, best first.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<IReadOnlyList<LoraxToken>>? TopTokens { get; init; }
}
