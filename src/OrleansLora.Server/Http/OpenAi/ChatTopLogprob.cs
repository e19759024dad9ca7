namespace OrleansLora.Server.Http.OpenAi;

/// <summary>One of the most likely tokens at a position: its text, log-probability and UTF-8 bytes.</summary>
public sealed record ChatTopLogprob(string Token, float Logprob, IReadOnlyList<int> Bytes);
