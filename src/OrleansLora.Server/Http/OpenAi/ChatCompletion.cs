namespace OrleansLora.Server.Http.OpenAi;

/// <summary>A non-streamed chat completion (<c>object: "chat.completion"</c>).</summary>
public sealed record ChatCompletion(string Id, long Created, string Model, IReadOnlyList<ChatChoice> Choices, Usage Usage)
{
    public string Object => "chat.completion";
    public string? SystemFingerprint => null;
}
