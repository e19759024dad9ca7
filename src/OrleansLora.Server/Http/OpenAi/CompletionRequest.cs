using System.Text.Json.Serialization;

namespace OrleansLora.Server.Http.OpenAi;

/// <summary>POST /v1/completions: a text prompt (a string, or an array holding one string).</summary>
public sealed record CompletionRequest : OpenAiSamplingRequest
{
    [JsonConverter(typeof(StringOrArrayConverter))]
    public IReadOnlyList<string>? Prompt { get; init; }

    /// <summary>Refused when above 0: the engine returns no log-probabilities.</summary>
    public int? Logprobs { get; init; }

    /// <summary>Refused when not empty: no fill-in-the-middle.</summary>
    public string? Suffix { get; init; }

    public int? BestOf { get; init; }
    public bool Echo { get; init; }
}
