namespace OrleansLora.Engine.Sampling;

/// <summary>
/// A per-sequence edit of the logits before a token is chosen (constrained decoding, token bans).
/// One instance per request (<see cref="Generation.GenerationRequest.LogitsProcessor"/>): it may keep
/// state about the tokens accepted so far.
/// </summary>
/// <remarks>
/// <see cref="Process"/> runs after the repetition/presence/frequency penalties and before temperature,
/// top-k, top-p or argmax, on whichever thread samples the row (rows of a batch are sampled in
/// parallel), never concurrently for one sequence. <see cref="Accept"/> runs on the engine thread with
/// the token the sequence continues with (the ending EOS too), before the next <see cref="Process"/>.
/// An exception from either, or a row with every token masked, fails that sequence only.
/// </remarks>
public interface ILogitsProcessor
{
    /// <summary>
    /// Called once, on admission, before the first <see cref="Process"/>: the most tokens the sequence can
    /// generate, its max new tokens capped by the context its prompt leaves. A grammar plans its output to fit.
    /// </summary>
    void Start(int maxNewTokens)
    {
    }

    /// <summary>Edits one row of logits (length = the model's vocabulary) in place; mask a token with <see cref="float.NegativeInfinity"/>.</summary>
    void Process(Span<float> logits);

    /// <summary>Records the token the sequence continues with.</summary>
    void Accept(int tokenId);
}
