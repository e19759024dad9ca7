using System.Text.Json.Serialization;

namespace OrleansLora.Server.Http.OpenAi;

/// <summary>A text completion or one streamed event of it (<c>object: "text_completion"</c>, as OpenAI sends both).</summary>
public sealed record Completion(string Id, long Created, string Model, IReadOnlyList<CompletionChoice> Choices)
{
    public string Object => "text_completion";

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Usage? Usage { get; init; }
}
