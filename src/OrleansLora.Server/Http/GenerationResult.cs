using OrleansLora.Generation;

namespace OrleansLora.Server.Http;

/// <summary>A whole generation read to its end: the text, the per-token log-probabilities (empty unless asked), the finish reason and usage.</summary>
public sealed record GenerationResult(string Text, IReadOnlyList<GeneratedLogprobs> Logprobs, GenerateFinishReason FinishReason, GenerateUsage Usage)
{
    /// <summary>With prompt log-probabilities asked for: one entry per prompt token (the first's logprob NaN); else null.</summary>
    public IReadOnlyList<GeneratedLogprobs>? PromptLogprobs { get; init; }

    /// <summary>The mean log-probability of the chosen tokens (OpenAI's <c>best_of</c> ranks by it); -infinity without any.</summary>
    public double MeanLogprob => Logprobs.Count == 0 ? double.NegativeInfinity : Logprobs.Average(l => (double)l.Chosen.Logprob);
}
