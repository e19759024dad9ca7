namespace OrleansLora.Server.Http.Tokenize;

/// <summary>vLLM's /tokenize answer: the token ids, their count and the model's context length.</summary>
public sealed record TokenizeResponse(int Count, int MaxModelLen, IReadOnlyList<int> Tokens);
