namespace OrleansLora.Engine.Sampling;

/// <summary>
/// Why a sequence stopped generating. EOS and a stop string are told apart because LoRAX reports them
/// apart (<c>eos_token</c> / <c>stop_sequence</c>); OpenAI folds both into <c>stop</c>.
/// </summary>
public enum FinishReason
{
    /// <summary>An end-of-sequence token was sampled (and <see cref="SamplingParams.IgnoreEos"/> was off).</summary>
    EndOfSequence,

    /// <summary>One of <see cref="SamplingParams.StopSequences"/> completed in the text.</summary>
    StopSequence,

    /// <summary>max_new_tokens was reached, or the sequence hit the model's context length.</summary>
    Length,

    /// <summary>The client went away or the request was cancelled before a natural end.</summary>
    Cancelled,

    /// <summary>The engine failed while generating this sequence (e.g. all logits were NaN/-inf).</summary>
    Error,
}
