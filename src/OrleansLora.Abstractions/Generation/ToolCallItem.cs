namespace OrleansLora.Generation;

/// <summary>A function call made by an assistant turn: OpenAI's <c>{"id", "function": {"name", "arguments"}}</c>.</summary>
/// <param name="Arguments">The arguments as a JSON text (OpenAI sends a string holding a JSON object).</param>
[GenerateSerializer, Immutable]
public sealed record ToolCallItem([property: Id(0)] string Id, [property: Id(1)] string Name, [property: Id(2)] string Arguments);
