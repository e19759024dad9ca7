using System.Text.Json;

namespace OrleansLora.Server.Http.OpenAi;

/// <summary>POST /v1/chat/completions: <c>model</c> names the adapter (empty or the base model's name: none).</summary>
public sealed record ChatCompletionRequest : OpenAiSamplingRequest
{
    public IReadOnlyList<ChatMessageDto>? Messages { get; init; }
    public int? MaxCompletionTokens { get; init; }

    /// <summary>Refused when true: the engine returns no log-probabilities.</summary>
    public bool? Logprobs { get; init; }

    public int? TopLogprobs { get; init; }

    /// <summary>Refused when not empty: no tool calling.</summary>
    public JsonElement? Tools { get; init; }

    public JsonElement? Functions { get; init; }

    /// <summary>Refused unless absent or <c>{"type": "text"}</c>: no constrained (JSON) decoding.</summary>
    public JsonElement? ResponseFormat { get; init; }
}
