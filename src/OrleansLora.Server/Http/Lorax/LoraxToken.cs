namespace OrleansLora.Server.Http.Lorax;

/// <summary>A generated token (or one of the most likely at its position); <c>logprob</c> is null only when no log-probabilities were computed.</summary>
public sealed record LoraxToken(int Id, string Text, float? Logprob, bool Special);
