using OrleansLora.Engine.Sampling;

namespace OrleansLora.Engine.Generation;

/// <summary>A prompt (text or token ids) and how to continue it.</summary>
public sealed record GenerationRequest
{
    /// <summary>Prompt text, tokenized with the model's tokenizer. Exactly one of this and <see cref="PromptTokens"/>.</summary>
    public string? Prompt { get; init; }

    /// <summary>Prompt token ids, used as given.</summary>
    public IReadOnlyList<int>? PromptTokens { get; init; }

    /// <summary>Prepend BOS when tokenizing <see cref="Prompt"/> (ignored for token prompts).</summary>
    public bool AddBos { get; init; } = true;

    public SamplingParams Sampling { get; init; } = new();

    /// <summary>A registered adapter (<see cref="InferenceEngine.RegisterAdapter"/>) applied to this sequence; null: the base model.</summary>
    public string? AdapterId { get; init; }

    /// <summary>
    /// Edits this sequence's logits after the penalties and before sampling (a grammar's token mask,
    /// say); it is handed every accepted token. One instance per request; null: none.
    /// </summary>
    public ILogitsProcessor? LogitsProcessor { get; init; }

    /// <summary>
    /// Samples of one prompt (OpenAI's <c>n</c>) share a key: while one of them is still prefilling the others wait, and
    /// then start with its keys and values copied (one prefill for all), where the runner can copy them. Null: none.
    /// </summary>
    public string? PrefixGroup { get; init; }

    public string RequestId { get; init; } = Guid.NewGuid().ToString("n");
}
