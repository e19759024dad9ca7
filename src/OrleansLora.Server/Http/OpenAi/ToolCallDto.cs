using System.Text.Json.Serialization;

namespace OrleansLora.Server.Http.OpenAi;

/// <summary>A tool call in a request's assistant message, an answer, or a streamed delta (which adds <see cref="Index"/>).</summary>
public sealed record ToolCallDto
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Index { get; init; }

    public string? Id { get; init; }

    public string? Type { get; init; } = "function";

    public FunctionCallDto? Function { get; init; }
}
