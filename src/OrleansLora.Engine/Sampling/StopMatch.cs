namespace OrleansLora.Engine.Sampling;

/// <summary>
/// Outcome of feeding one piece of generated text to a <see cref="StopSequenceMatcher"/>.
/// </summary>
/// <param name="Text">
/// Text that is now safe to send to the client (possibly empty). Never contains a stop sequence or
/// anything after one; text that could still turn into a stop sequence is held back for a later call.
/// </param>
/// <param name="StopSequence">The stop sequence that completed, or null while generation may go on.</param>
public readonly record struct StopMatch(string Text, string? StopSequence)
{
    /// <summary>True when a stop sequence completed: generation must end, with <see cref="FinishReason.StopSequence"/>.</summary>
    public bool Stopped => StopSequence is not null;
}
