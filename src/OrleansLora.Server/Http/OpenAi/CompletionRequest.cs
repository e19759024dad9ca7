using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansLora.Server.Http.OpenAi;

/// <summary>POST /v1/completions: a text prompt (a string, or an array holding one string).</summary>
public sealed record CompletionRequest : IOpenAiSampling
{
    public string? Model { get; init; }

    [JsonConverter(typeof(StringOrArrayConverter))]
    public IReadOnlyList<string>? Prompt { get; init; }

    public int? MaxTokens { get; init; }
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

    /// <summary>Refused when above 0: the engine returns no log-probabilities.</summary>
    public int? Logprobs { get; init; }

    /// <summary>Refused when not empty: no fill-in-the-middle.</summary>
    public string? Suffix { get; init; }

    public int? BestOf { get; init; }
    public bool Echo { get; init; }
    public bool Stream { get; init; }
    public StreamOptions? StreamOptions { get; init; }
    public string? User { get; init; }
}
