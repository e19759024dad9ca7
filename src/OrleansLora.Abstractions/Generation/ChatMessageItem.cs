namespace OrleansLora.Generation;

/// <summary>One chat message (role: system, user or assistant); the worker renders the model's chat template.</summary>
[GenerateSerializer, Immutable]
public sealed record ChatMessageItem([property: Id(0)] string Role, [property: Id(1)] string Content);
