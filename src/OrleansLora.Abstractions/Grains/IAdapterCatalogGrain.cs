using Orleans.Concurrency;
using OrleansLora.Adapters;

namespace OrleansLora.Grains;

/// <summary>The registered adapter ids (key 0), kept in grain storage; used to list adapters.</summary>
public interface IAdapterCatalogGrain : IGrainWithIntegerKey
{
    Task Add(AdapterRegistration registration);

    Task Remove(string adapterId);

    [AlwaysInterleave]
    Task<IReadOnlyList<AdapterRegistration>> List();
}
