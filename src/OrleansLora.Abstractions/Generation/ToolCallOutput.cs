namespace OrleansLora.Generation;

/// <summary>A generated answer split into text and the tool calls parsed from it.</summary>
/// <param name="Content">The text outside any call; null when the answer is only calls.</param>
public sealed record ToolCallOutput(string? Content, IReadOnlyList<ToolCallItem> ToolCalls);
