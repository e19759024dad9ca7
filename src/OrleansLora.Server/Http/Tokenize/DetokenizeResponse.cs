namespace OrleansLora.Server.Http.Tokenize;

/// <summary>vLLM's /detokenize answer: the decoded text.</summary>
public sealed record DetokenizeResponse(string Prompt);
