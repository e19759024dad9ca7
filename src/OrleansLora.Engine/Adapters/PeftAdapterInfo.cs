namespace OrleansLora.Engine.Adapters;

/// <summary>
/// What <see cref="PeftAdapter.Inspect"/> learns from an adapter's config and weight-file header:
/// enough to register it, list it and size it, with the weights still on disk.
/// </summary>
/// <param name="ByteSize">Bytes of all A and B factors as float32.</param>
public sealed record PeftAdapterInfo(
    string Name,
    string Directory,
    PeftAdapterConfig Config,
    IReadOnlyList<string> TargetModules,
    int NumLayers,
    long ByteSize)
{
    public int Rank => Config.Rank;
}
