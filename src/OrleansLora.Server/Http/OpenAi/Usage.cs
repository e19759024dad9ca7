namespace OrleansLora.Server.Http.OpenAi;

/// <summary>OpenAI's <c>usage</c>.</summary>
public sealed record Usage(int PromptTokens, int CompletionTokens, int TotalTokens);
