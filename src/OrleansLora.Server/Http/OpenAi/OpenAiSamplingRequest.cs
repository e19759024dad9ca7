using System.Text.Json;
using System.Text.Json.Serialization;
using OrleansLora.Errors;
using OrleansLora.Generation;

namespace OrleansLora.Server.Http.OpenAi;

/// <summary>
/// The fields chat and text completion requests share: the adapter, sampling (with vLLM's extensions
/// <c>top_k</c>, <c>repetition_penalty</c> and <c>ignore_eos</c>, which OpenAI-compatible servers accept),
/// streaming, log-probabilities, several choices (<c>n</c>), and the features this server does not have (<c>logit_bias</c>), so that a request
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

    /// <summary>vLLM extension: a JSON Schema (object or JSON string) the output must satisfy.</summary>
    public JsonElement? GuidedJson { get; init; }

    /// <summary>vLLM extension: a regex the whole output must match.</summary>
    public string? GuidedRegex { get; init; }

    /// <summary>vLLM extension: the output is exactly one of these strings.</summary>
    public IReadOnlyList<string>? GuidedChoice { get; init; }

    /// <summary>The most choices (<c>n</c>) or candidates (<c>best_of</c>) one request may ask for: each is a sequence in the engine.</summary>
    public const int MaxChoices = 16;

    /// <summary>The most alternatives a position lists (<c>top_logprobs</c>, completions' <c>logprobs</c>): the engine's limit.</summary>
    public const int MaxTopLogprobs = 20;

    /// <summary>How many of the most likely tokens each generated token's log-probability comes with; null: no log-probabilities.</summary>
    public abstract int? LogprobCount();

    /// <summary>
    /// What OpenAI's API adds to the shared check (<see cref="GenerateRequestValidator"/>, run on the mapped request):
    /// its narrower temperature range, at most 4 stop strings, vLLM's -1 for top_k, n, and the refused features.
    /// </summary>
    public virtual void Validate()
    {
        if (N is < 1 or > MaxChoices)
            throw new InvalidRequestException($"n must be in [1, {MaxChoices}], got {N}.", "n");
        FieldChecks.ObjectOrNull(LogitBias, "logit_bias");
        if (FieldChecks.IsSet(LogitBias))
            throw new InvalidRequestException("logit_bias is not supported.", "logit_bias");
        FieldChecks.Stops(Stop, "stop", 4);
        FieldChecks.Range(Temperature, "temperature", 0, 2);
        if (TopK is < -1)
            throw new InvalidRequestException($"top_k must be -1 or 0 (off) or positive, got {TopK}.", "top_k");
    }
}
