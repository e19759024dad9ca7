namespace OrleansLora.Engine.Sampling;

/// <summary>A token id and its log-probability under the distribution the sampler chose from (before temperature).</summary>
public readonly record struct TokenLogprob(int TokenId, float Logprob);
