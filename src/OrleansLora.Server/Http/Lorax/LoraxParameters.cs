using System.Text.Json.Serialization;

namespace OrleansLora.Server.Http.Lorax;

/// <summary>LoRAX's <c>parameters</c>; <c>adapter_id</c> empty means the base model.</summary>
public sealed record LoraxParameters
{
    public string? AdapterId { get; init; }

    /// <summary>"hub" (default: an adapter id in the store), or "local" (a path relative to the adapter store root).</summary>
    public string? AdapterSource { get; init; }

    public int? MaxNewTokens { get; init; }
    public float? Temperature { get; init; }
    public int? TopK { get; init; }
    public float? TopP { get; init; }
    public float? RepetitionPenalty { get; init; }
    public bool DoSample { get; init; }
    public long? Seed { get; init; }

    [JsonConverter(typeof(StringOrArrayConverter))]
    public IReadOnlyList<string>? Stop { get; init; }

    public bool Details { get; init; }

    /// <summary>TGI's: with each generated token, this many (0-20) of the most likely tokens at its position.</summary>
    public int? TopNTokens { get; init; }

    /// <summary>With <c>details</c>: the prompt tokens and their log-probabilities in <c>details.prefill</c> (/generate only).</summary>
    public bool DecoderInputDetails { get; init; }

    /// <summary>Refused above 1: several candidates per request are only on the OpenAI completions API.</summary>
    public int? BestOf { get; init; }

    /// <summary>Refused when set: LoRAX merges several adapters per request with it; adapters here are served one per request.</summary>
    public System.Text.Json.JsonElement? AdapterParameters { get; init; }

    /// <summary>Refused when set: typical sampling is not implemented (use top_p or top_k).</summary>
    public float? TypicalP { get; init; }

    /// <summary>Refused when true: no watermarking.</summary>
    public bool Watermark { get; init; }
    public bool ReturnFullText { get; init; }

    /// <summary><c>{"type": "json_object", "schema": {...}}</c>: the output is JSON valid against the schema (any object without one).</summary>
    public System.Text.Json.JsonElement? ResponseFormat { get; init; }
}
