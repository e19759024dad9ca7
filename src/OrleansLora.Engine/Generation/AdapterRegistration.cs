using OrleansLora.Engine.Adapters;

namespace OrleansLora.Engine.Generation;

/// <summary>
/// One registration of an adapter id: what validation found in its directory. Compared by
/// reference, so a load that finishes after the id was unregistered (and perhaps registered
/// again from another directory) is recognised as stale and dropped.
/// </summary>
internal sealed class AdapterRegistration(string id, PeftAdapterInfo info)
{
    public string Id { get; } = id;
    public PeftAdapterInfo Info { get; } = info;
}
