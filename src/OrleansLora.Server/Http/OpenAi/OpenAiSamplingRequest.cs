using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansLora.Server.Http.OpenAi;

/// <summary>
/// The fields chat and text completion requests share: the adapter, sampling (with vLLM's extensions
/// <c>top_k</c>, <c>repetition_penalty</c> and <c>ignore_eos</c>, which OpenAI-compatible servers accept),
/// streaming, and the features this server does not have (<c>n</c> > 1, <c>logit_bias</c>), so that a request
/// asking for them is refused instead of silently answered without.
/// </summary>
public abstract record OpenAiSamplingRequest
{
    /// <summary>The adapter id; empty or the base model's name: no adapter.</summary>
    public string? Model { get; init; }

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
    public bool Stream { get; init; }
    public StreamOptions? StreamOptions { get; init; }
    public string? User { get; init; }
}
