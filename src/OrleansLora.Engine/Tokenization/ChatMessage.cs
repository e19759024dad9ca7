namespace OrleansLora.Engine.Tokenization;

/// <summary>One chat turn as chat templates see it.</summary>
/// <param name="Role">"system", "user" or "assistant" (ChatML accepts any role).</param>
public sealed record ChatMessage(string Role, string Content)
{
    public static ChatMessage System(string content) => new("system", content);

    public static ChatMessage User(string content) => new("user", content);

    public static ChatMessage Assistant(string content) => new("assistant", content);
}
