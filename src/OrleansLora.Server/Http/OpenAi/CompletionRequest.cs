using System.Text.Json.Serialization;
using OrleansLora.Errors;

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

    public override void Validate()
    {
        base.Validate();
        if (BestOf is not null and not 1)
            throw new InvalidRequestException($"best_of must be 1 (several candidates per request are not supported), got {BestOf}.", "best_of");
        if (Prompt is not { Count: 1 })
            throw new InvalidRequestException("prompt is required: one string (arrays of several prompts are not supported).", "prompt");
        if (Echo)
            throw new InvalidRequestException("echo is not supported.", "echo");
        if (Logprobs is < 0 or > 5)
            throw new InvalidRequestException($"logprobs must be in [0, 5], got {Logprobs}.", "logprobs");
        if (Logprobs is > 0)
            throw new InvalidRequestException("logprobs is not supported: the engine returns no log-probabilities.", "logprobs");
        if (!string.IsNullOrEmpty(Suffix))
            throw new InvalidRequestException("suffix is not supported.", "suffix");
    }
}
