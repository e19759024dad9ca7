namespace OrleansLora.Engine.Tests.Reference;

/// <summary>
/// The <c>rope_scaling</c> block of a Hugging Face config, as the reference reads it
/// (<c>rope_type</c>, or the older <c>type</c>).
/// </summary>
public sealed record ReferenceRopeScaling(
    string Kind,
    double Factor,
    double LowFreqFactor,
    double HighFreqFactor,
    double OriginalMaxPositionEmbeddings);
