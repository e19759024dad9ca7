namespace OrleansLora.Server.Http.Lorax;

/// <summary>A prompt token in <c>details.prefill</c> (TGI's shape): <c>logprob</c> is null for the first, which nothing predicts.</summary>
public sealed record LoraxPrefillToken(int Id, string Text, float? Logprob);
