using System.Text.Json.Serialization;

namespace OrleansLora.Engine.Models;

/// <summary><c>rope_scaling</c> of config.json: none, <c>linear</c> or <c>llama3</c>.</summary>
public sealed record RopeScaling
{
    /// <summary>Older configs say <c>type</c>, newer ones <c>rope_type</c>.</summary>
    [JsonPropertyName("rope_type")] public string? RopeType { get; init; }
    [JsonPropertyName("type")] public string? Type { get; init; }
    [JsonPropertyName("factor")] public double Factor { get; init; } = 1.0;
    [JsonPropertyName("low_freq_factor")] public double LowFreqFactor { get; init; } = 1.0;
    [JsonPropertyName("high_freq_factor")] public double HighFreqFactor { get; init; } = 4.0;
    [JsonPropertyName("original_max_position_embeddings")] public int OriginalMaxPositionEmbeddings { get; init; } = 8192;

    [JsonIgnore] public string Kind => (RopeType ?? Type ?? "default").ToLowerInvariant();
}
