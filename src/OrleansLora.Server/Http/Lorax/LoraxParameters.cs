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
    public bool ReturnFullText { get; init; }
}
