namespace OrleansLora.Server.Http.Lorax;

/// <summary>A generated token; <c>logprob</c> is null (the engine does not return log-probabilities).</summary>
public sealed record LoraxToken(int Id, string Text, float? Logprob, bool Special);
