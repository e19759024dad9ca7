namespace OrleansLora.Generation;

/// <summary>
/// One chat message (role: system, user, assistant or tool); the worker renders the model's chat template.
/// An assistant turn may carry <see cref="ToolCalls"/>; a tool turn answers <see cref="ToolCallId"/>.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ChatMessageItem([property: Id(0)] string Role, [property: Id(1)] string Content)
{
    [Id(2)] public IReadOnlyList<ToolCallItem>? ToolCalls { get; init; }

    [Id(3)] public string? ToolCallId { get; init; }

    /// <summary>The function's name on a tool turn.</summary>
    [Id(4)] public string? Name { get; init; }
}
