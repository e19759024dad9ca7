namespace OrleansLora.Engine.Generation;

/// <summary>A registered adapter as the engine sees it.</summary>
public sealed record AdapterStatus(
    string AdapterId,
    string Directory,
    int Rank,
    double LoraAlpha,
    bool UseRsLora,
    IReadOnlyList<string> TargetModules,
    long ByteSize,
    AdapterResidencyLevel Residency,
    int Pins);
