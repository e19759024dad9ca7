using System.Text.Json.Serialization;

namespace OrleansLora.Server.Http.Lorax;

/// <summary>One event of /generate_stream: a token; the last event also carries generated_text and details (null before).</summary>
public sealed record LoraxStreamEvent(LoraxToken Token, string? GeneratedText, LoraxDetails? Details)
{
    /// <summary>With <c>top_n_tokens</c>: the most likely tokens at this token's position, best first.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<LoraxToken>? TopTokens { get; init; }
}
