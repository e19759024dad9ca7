using System.Text.Json.Serialization;

namespace OrleansLora.Server.Http.OpenAi;

/// <summary>One server-sent event of a streamed chat completion (<c>object: "chat.completion.chunk"</c>).</summary>
public sealed record ChatCompletionChunk(string Id, long Created, string Model, IReadOnlyList<ChatChunkChoice> Choices)
{
    public string Object => "chat.completion.chunk";

    /// <summary>Null on every chunk but the usage chunk (<c>stream_options.include_usage</c>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Usage? Usage { get; init; }
}
