namespace OrleansLora.Server.Http.OpenAi;

/// <summary>A generated token with its log-probability, bytes and the <c>top_logprobs</c> most likely tokens at its position.</summary>
public sealed record ChatTokenLogprob(string Token, float Logprob, IReadOnlyList<int> Bytes, IReadOnlyList<ChatTopLogprob> TopLogprobs);
