namespace OrleansLora.Engine.Adapters;

/// <summary>Limits applied when a PEFT adapter is loaded.</summary>
public sealed record AdapterLoadOptions
{
    /// <summary>
    /// Largest LoRA rank accepted. The slot table is sized for this rank, so a larger adapter is
    /// refused at load rather than failing later when it is swapped in.
    /// </summary>
    public int MaxRank { get; init; } = 128;

    /// <summary>Name of the adapter; null uses the directory's name.</summary>
    public string? Name { get; init; }
}
