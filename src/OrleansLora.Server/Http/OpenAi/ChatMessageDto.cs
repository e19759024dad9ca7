using System.Text.Json.Serialization;

namespace OrleansLora.Server.Http.OpenAi;

/// <summary>A chat message in a request or a non-streamed answer.</summary>
public sealed record ChatMessageDto
{
    public string? Role { get; init; }

    [JsonConverter(typeof(ChatContentConverter))]
    public string? Content { get; init; }

    /// <summary>The OpenAI SDK sends it on assistant messages; always null here.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Refusal { get; init; }

    /// <summary>Calls an assistant turn made (requests) or makes (answers).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ToolCallDto>? ToolCalls { get; init; }

    /// <summary>The call a "tool" message answers.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ToolCallId { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Name { get; init; }
}
