namespace OrleansLora.Generation;

/// <summary>A prompt's token ids and the model's context length.</summary>
[GenerateSerializer, Immutable]
public sealed record TokenizeResult([property: Id(0)] IReadOnlyList<int> Tokens, [property: Id(1)] int MaxModelLength);
