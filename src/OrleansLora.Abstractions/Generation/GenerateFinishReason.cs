namespace OrleansLora.Generation;

/// <summary>Why a generation ended: EOS or a stop sequence, or max tokens / the context length.</summary>
[GenerateSerializer]
public enum GenerateFinishReason
{
    Stop,
    Length,
}
