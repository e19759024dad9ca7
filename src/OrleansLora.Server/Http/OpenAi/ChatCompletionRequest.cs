using System.Text.Json.Serialization;

namespace OrleansLora.Server.Http.OpenAi;

/// <summary>POST /v1/chat/completions: <c>model</c> names the adapter (empty or the base model's name: none).</summary>
public sealed record ChatCompletionRequest
{
    public string? Model { get; init; }
    public IReadOnlyList<ChatMessageDto>? Messages { get; init; }
    public int? MaxTokens { get; init; }
    public int? MaxCompletionTokens { get; init; }
    public float? Temperature { get; init; }
    public float? TopP { get; init; }
    public long? Seed { get; init; }

    [JsonConverter(typeof(StringOrArrayConverter))]
    public IReadOnlyList<string>? Stop { get; init; }

    public float? PresencePenalty { get; init; }
    public float? FrequencyPenalty { get; init; }
    public int? N { get; init; }
    public bool Stream { get; init; }
    public StreamOptions? StreamOptions { get; init; }
    public string? User { get; init; }
}
