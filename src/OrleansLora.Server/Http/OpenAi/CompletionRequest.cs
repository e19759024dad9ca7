using System.Text.Json.Serialization;
using OrleansLora.Errors;

namespace OrleansLora.Server.Http.OpenAi;

/// <summary>POST /v1/completions: a text prompt (a string, or an array holding one string).</summary>
public sealed record CompletionRequest : OpenAiSamplingRequest
{
    [JsonConverter(typeof(StringOrArrayConverter))]
    public IReadOnlyList<string>? Prompt { get; init; }

    /// <summary>Set: each choice carries the log-probability of every generated token and this many (0-20) of the most likely ones.</summary>
    public int? Logprobs { get; init; }

    public override int? LogprobCount() => Logprobs;

    /// <summary>Refused when not empty: no fill-in-the-middle.</summary>
    public string? Suffix { get; init; }

    public int? BestOf { get; init; }

    /// <summary>Each choice's text starts with the prompt; with <see cref="Logprobs"/> its tokens' log-probabilities come first too (the first token's null).</summary>
    public bool Echo { get; init; }

    /// <summary><c>text</c>, <c>json_object</c> or <c>json_schema</c>, as on chat (vLLM accepts it here too).</summary>
    public System.Text.Json.JsonElement? ResponseFormat { get; init; }

    public override void Validate()
    {
        base.Validate();
        if (BestOf is { } bestOf)
        {
            if (bestOf < (N ?? 1) || bestOf > MaxChoices)
                throw new InvalidRequestException($"best_of must be in [n, {MaxChoices}] (n = {N ?? 1}), got {bestOf}.", "best_of");
            if (Stream && bestOf > (N ?? 1))
                throw new InvalidRequestException("best_of above n cannot be streamed: the best candidates are only known at the end.", "best_of");
        }
        if (Prompt is not { Count: 1 })
            throw new InvalidRequestException("prompt is required: one string (arrays of several prompts are not supported).", "prompt");
        // OpenAI allows 5; vLLM (and this server) up to 20, the engine's limit.
        if (Logprobs is < 0 or > MaxTopLogprobs)
            throw new InvalidRequestException($"logprobs must be in [0, {MaxTopLogprobs}], got {Logprobs}.", "logprobs");
        FieldChecks.ObjectOrNull(ResponseFormat, "response_format");
        if (!string.IsNullOrEmpty(Suffix))
            throw new InvalidRequestException("suffix is not supported.", "suffix");
    }
}
