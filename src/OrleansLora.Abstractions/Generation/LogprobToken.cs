namespace OrleansLora.Generation;

/// <summary>
/// A token with its log-probability: the id, its text on its own (U+FFFD where the token holds part of a
/// UTF-8 character), its raw bytes, and whether it is a special token. -infinity marks a token that could
/// not be chosen (a grammar refused it).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record LogprobToken(
    [property: Id(0)] int TokenId,
    [property: Id(1)] string Text,
    [property: Id(2)] byte[] Bytes,
    [property: Id(3)] float Logprob,
    [property: Id(4)] bool Special);
