using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansLora.Server.Http.OpenAi;

/// <summary>POST /v1/chat/completions: <c>model</c> names the adapter (empty or the base model's name: none).</summary>
public sealed record ChatCompletionRequest : IOpenAiSampling
{
    public string? Model { get; init; }
    public IReadOnlyList<ChatMessageDto>? Messages { get; init; }
    public int? MaxTokens { get; init; }
    public int? MaxCompletionTokens { get; init; }
    public float? Temperature { get; init; }
    public float? TopP { get; init; }
    public int? TopK { get; init; }
    public float? RepetitionPenalty { get; init; }
    public long? Seed { get; init; }

    [JsonConverter(typeof(StringOrArrayConverter))]
    public IReadOnlyList<string>? Stop { get; init; }

    public float? PresencePenalty { get; init; }
    public float? FrequencyPenalty { get; init; }
    public bool? IgnoreEos { get; init; }
    public int? N { get; init; }
    public JsonElement? LogitBias { get; init; }

    /// <summary>Refused when true: the engine returns no log-probabilities.</summary>
    public bool? Logprobs { get; init; }

    public int? TopLogprobs { get; init; }

    /// <summary>Refused when not empty: no tool calling.</summary>
    public JsonElement? Tools { get; init; }

    public JsonElement? Functions { get; init; }

    /// <summary>Refused unless absent or <c>{"type": "text"}</c>: no constrained (JSON) decoding.</summary>
    public JsonElement? ResponseFormat { get; init; }

    public bool Stream { get; init; }
    public StreamOptions? StreamOptions { get; init; }
    public string? User { get; init; }
}
