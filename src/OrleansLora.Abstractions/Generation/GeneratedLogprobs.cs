namespace OrleansLora.Generation;

/// <summary>
/// The log-probabilities of one generated token (<see cref="GenerateRequest.Logprobs"/>): the token chosen and the
/// most likely tokens of that step, best first. Computed from the logits the sampler chose from, after the
/// penalties and any grammar, before temperature, top-k and top-p (vLLM's definition).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record GeneratedLogprobs(
    [property: Id(0)] LogprobToken Chosen,
    [property: Id(1)] IReadOnlyList<LogprobToken> Top);
