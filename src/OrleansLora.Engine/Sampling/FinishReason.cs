namespace OrleansLora.Engine.Sampling;

/// <summary>
/// Why a sequence stopped generating. Deliberately coarse: the OpenAI wire format only distinguishes
/// "stop" from "length", and the API layer can tell EOS from a stop string by looking at whether a stop
/// sequence was matched.
/// </summary>
public enum FinishReason
{
    /// <summary>An EOS token was sampled or a stop sequence completed.</summary>
    Stop,

    /// <summary>max_new_tokens was reached, or the sequence hit the model's context length.</summary>
    Length,

    /// <summary>The client went away or the request was cancelled before a natural end.</summary>
    Cancelled,

    /// <summary>The engine failed while generating this sequence (e.g. all logits were NaN/-inf).</summary>
    Error,
}
