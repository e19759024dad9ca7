namespace OrleansLora.Engine.Sampling;

/// <summary>
/// The log-probabilities of one sampling step: the token chosen and the <see cref="SamplingParams.Logprobs"/>
/// most likely tokens, best first (ties to the lower id). The chosen token may or may not be among them.
/// </summary>
/// <remarks>
/// Computed, as vLLM documents for its processed logits, from the row the sampler chose from: after the
/// repetition/presence/frequency penalties and the logits processor (a grammar mask makes refused tokens
/// -infinity), before temperature, top-k and top-p. So a greedy step's chosen token is the top-1.
/// </remarks>
public sealed record SampleLogprobs(TokenLogprob Chosen, IReadOnlyList<TokenLogprob> Top);
