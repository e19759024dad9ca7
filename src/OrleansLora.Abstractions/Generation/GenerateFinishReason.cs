namespace OrleansLora.Generation;

/// <summary>
/// Why a generation ended. LoRAX reports these as <c>eos_token</c>, <c>stop_sequence</c> and
/// <c>length</c>; OpenAI as <c>stop</c> (EOS or a stop string) and <c>length</c>.
/// </summary>
[GenerateSerializer]
public enum GenerateFinishReason
{
    /// <summary>The model produced an end-of-sequence token.</summary>
    EndOfSequence,

    /// <summary>max tokens, or the context length, was reached.</summary>
    Length,

    /// <summary>One of the request's stop strings completed (the string itself is not returned).</summary>
    StopSequence,

    /// <summary>The request was cancelled before a natural end.</summary>
    Cancelled,
}
