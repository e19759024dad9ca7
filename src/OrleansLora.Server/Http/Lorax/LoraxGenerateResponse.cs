using System.Text.Json.Serialization;

namespace OrleansLora.Server.Http.Lorax;

/// <summary>POST /generate's answer; <c>details</c> when the request asked for it.</summary>
public sealed record LoraxGenerateResponse(string GeneratedText)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public LoraxDetails? Details { get; init; }
}
