using System.Text.Json;
using System.Text.Json.Serialization;
using OrleansLora.Errors;

namespace OrleansLora.Server.Http.OpenAi;

/// <summary>
/// The fields chat and text completion requests share: the adapter, sampling (with vLLM's extensions
/// <c>top_k</c>, <c>repetition_penalty</c> and <c>ignore_eos</c>, which OpenAI-compatible servers accept),
/// streaming, and the features this server does not have (<c>n</c> > 1, <c>logit_bias</c>), so that a request
/// asking for them is refused instead of silently answered without.
/// </summary>
public abstract record OpenAiSamplingRequest : IValidatedRequest
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

    /// <summary>The sampling fields' ranges (OpenAI's, and vLLM's for its extensions) and the refused features.</summary>
    public virtual void Validate()
    {
        if (N is not null and not 1)
            throw new InvalidRequestException($"n must be 1 (several choices per request are not supported), got {N}.", "n");
        FieldChecks.ObjectOrNull(LogitBias, "logit_bias");
        if (FieldChecks.IsSet(LogitBias))
            throw new InvalidRequestException("logit_bias is not supported.", "logit_bias");
        FieldChecks.Stops(Stop, "stop", 4);
        FieldChecks.Range(Temperature, "temperature", 0, 2);
        FieldChecks.Range(TopP, "top_p", 0, 1, minIncluded: false);
        if (TopK is < -1)
            throw new InvalidRequestException($"top_k must be -1 or 0 (off) or positive, got {TopK}.", "top_k");
        FieldChecks.Above(RepetitionPenalty, "repetition_penalty", 0);
        FieldChecks.Range(PresencePenalty, "presence_penalty", -2, 2);
        FieldChecks.Range(FrequencyPenalty, "frequency_penalty", -2, 2);
        FieldChecks.AtLeast(MaxTokens, "max_tokens", 1);
    }
}
