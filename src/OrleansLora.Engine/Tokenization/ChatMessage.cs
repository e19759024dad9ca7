namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// One chat turn as chat templates see it: the dict <c>{"role", "content", ...}</c> that
/// transformers' apply_chat_template receives. Optional fields appear in that dict only when set.
/// For message shapes beyond these (content parts, extra keys), render raw JSON with
/// <see cref="ChatTemplate.Render(System.Text.Json.JsonElement, System.Text.Json.JsonElement?, bool, IReadOnlyDictionary{string, System.Text.Json.JsonElement}?, string?)"/>.
/// </summary>
/// <param name="Role">"system", "user", "assistant", "tool" (templates decide which they accept).</param>
/// <param name="Content">The text; null for an assistant turn that only calls tools.</param>
public sealed record ChatMessage(string Role, string? Content)
{
    /// <summary>Tool calls of an assistant turn.</summary>
    public IReadOnlyList<ChatToolCall>? ToolCalls { get; init; }

    /// <summary>The call a "tool" turn answers.</summary>
    public string? ToolCallId { get; init; }

    /// <summary>The tool's name on a "tool" turn (some templates print it).</summary>
    public string? Name { get; init; }

    /// <summary>Reasoning of an assistant turn kept apart from its content (Qwen3, DeepSeek-R1 templates read it).</summary>
    public string? ReasoningContent { get; init; }

    public static ChatMessage System(string content) => new("system", content);

    public static ChatMessage User(string content) => new("user", content);

    public static ChatMessage Assistant(string content) => new("assistant", content);
}
