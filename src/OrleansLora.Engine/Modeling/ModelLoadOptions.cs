namespace OrleansLora.Engine.Modeling;

/// <summary>How to load a checkpoint.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>Compute dtype: float32 (default on CPU) or bfloat16 / float16.</summary>
    public string Dtype { get; init; } = "float32";

    /// <summary>Positions the rotary tables cover; 0 means max_position_embeddings.</summary>
    public int MaxSequenceLength { get; init; }
}
