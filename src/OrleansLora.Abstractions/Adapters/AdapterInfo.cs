namespace OrleansLora.Adapters;

/// <summary>A validated adapter's PEFT configuration summary.</summary>
[GenerateSerializer, Immutable]
public sealed record AdapterInfo(
    [property: Id(0)] int Rank,
    [property: Id(1)] double LoraAlpha,
    [property: Id(2)] bool UseRsLora,
    [property: Id(3)] IReadOnlyList<string> TargetModules,
    [property: Id(4)] long ByteSize,
    [property: Id(5)] string? BaseModelNameOrPath);
