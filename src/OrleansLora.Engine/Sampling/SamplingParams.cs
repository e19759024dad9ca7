namespace OrleansLora.Engine.Sampling;

/// <summary>
/// Per-sequence decoding parameters, as OpenAI / LoRAX / vLLM name them. Validated by <see cref="Validate"/>.
/// </summary>
public sealed record SamplingParams
{
    /// <summary>0 means greedy (argmax).</summary>
    public float Temperature { get; init; } = 1.0f;

    /// <summary>0 or negative disables top-k.</summary>
    public int TopK { get; init; }

    /// <summary>1.0 disables nucleus sampling.</summary>
    public float TopP { get; init; } = 1.0f;

    /// <summary>1.0 disables it; CTRL-style: positive logits of seen tokens divided, negative multiplied.</summary>
    public float RepetitionPenalty { get; init; } = 1.0f;

    /// <summary>OpenAI presence penalty (subtracted once per seen token), 0 disables.</summary>
    public float PresencePenalty { get; init; }

    /// <summary>OpenAI frequency penalty (subtracted per occurrence), 0 disables.</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>Same seed, same prompt, same model: same output. Null draws a random seed.</summary>
    public ulong? Seed { get; init; }

    public int MaxNewTokens { get; init; } = 256;

    /// <summary>Generation stops when the text contains one of these; the stop text itself is not returned.</summary>
    public IReadOnlyList<string> StopSequences { get; init; } = [];

    /// <summary>When true, EOS tokens do not end generation (benchmarks).</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>
    /// Null: no log-probabilities. k in [0, <see cref="MaxLogprobs"/>]: each step reports the chosen token's
    /// log-probability and the k most likely tokens' (<see cref="SampleLogprobs"/>), as vLLM's <c>logprobs</c>.
    /// </summary>
    public int? Logprobs { get; init; }

    /// <summary>
    /// Null: none. k in [0, <see cref="MaxLogprobs"/>]: the log-probability of each prompt token after the first under the
    /// model given the tokens before it, with the k most likely tokens at that position (vLLM's <c>prompt_logprobs</c>,
    /// LoRAX's <c>decoder_input_details</c>), on the first chunk. From the raw logits: no penalty or logits processor
    /// applies to a prompt. Every prompt position is computed (no prefix-cache or sibling reuse for such a request).
    /// </summary>
    public int? PromptLogprobs { get; init; }

    /// <summary>The most alternatives a step reports (OpenAI's <c>top_logprobs</c> limit).</summary>
    public const int MaxLogprobs = 20;

    public static SamplingParams Greedy { get; } = new() { Temperature = 0f };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad parameter.</summary>
    public void Validate()
    {
        if (!float.IsFinite(Temperature) || Temperature < 0)
            throw new ArgumentException($"temperature must be a finite number >= 0, got {Temperature}.", nameof(Temperature));
        if (!float.IsFinite(TopP) || TopP <= 0 || TopP > 1)
            throw new ArgumentException($"top_p must be in (0, 1], got {TopP}.", nameof(TopP));
        if (!float.IsFinite(RepetitionPenalty) || RepetitionPenalty <= 0)
            throw new ArgumentException($"repetition_penalty must be > 0, got {RepetitionPenalty}.", nameof(RepetitionPenalty));
        if (!float.IsFinite(PresencePenalty) || PresencePenalty is < -2 or > 2)
            throw new ArgumentException($"presence_penalty must be in [-2, 2], got {PresencePenalty}.", nameof(PresencePenalty));
        if (!float.IsFinite(FrequencyPenalty) || FrequencyPenalty is < -2 or > 2)
            throw new ArgumentException($"frequency_penalty must be in [-2, 2], got {FrequencyPenalty}.", nameof(FrequencyPenalty));
        if (MaxNewTokens < 1)
            throw new ArgumentException($"max_new_tokens must be >= 1, got {MaxNewTokens}.", nameof(MaxNewTokens));
        if (Logprobs is < 0 or > MaxLogprobs)
            throw new ArgumentException($"logprobs must be in [0, {MaxLogprobs}], got {Logprobs}.", nameof(Logprobs));
        if (PromptLogprobs is < 0 or > MaxLogprobs)
            throw new ArgumentException($"prompt_logprobs must be in [0, {MaxLogprobs}], got {PromptLogprobs}.", nameof(PromptLogprobs));
        if (StopSequences.Any(string.IsNullOrEmpty))
            throw new ArgumentException("stop sequences must not be empty strings.", nameof(StopSequences));
    }
}
