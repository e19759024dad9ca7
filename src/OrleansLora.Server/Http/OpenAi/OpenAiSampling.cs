using System.Text.Json;

namespace OrleansLora.Server.Http.OpenAi;

/// <summary>
/// The fields chat and text completion requests share: sampling (with vLLM's extensions <c>top_k</c>,
/// <c>repetition_penalty</c> and <c>ignore_eos</c>, which OpenAI-compatible servers accept), and the features
/// this server does not have, so that a request asking for them is refused instead of silently answered without.
/// </summary>
public interface IOpenAiSampling
{
    float? Temperature { get; }
    float? TopP { get; }
    int? TopK { get; }
    float? RepetitionPenalty { get; }
    long? Seed { get; }
    IReadOnlyList<string>? Stop { get; }
    float? PresencePenalty { get; }
    float? FrequencyPenalty { get; }
    bool? IgnoreEos { get; }
    int? N { get; }
    JsonElement? LogitBias { get; }
}
