using Microsoft.Extensions.Logging;
using OrleansLora.Adapters;

namespace OrleansLora.Grains.Adapters;

/// <summary>
/// The registered adapters, in grain storage, for listing (a single activation: registrations are rare). A
/// storage that lost the record (Redis restarted without persistence) gets the in-memory list written again.
/// </summary>
public sealed class AdapterCatalogGrain(
    [PersistentState("catalog", GrainStorageNames.Adapters)] IPersistentState<AdapterCatalogState> state,
    ILogger<AdapterCatalogGrain> logger)
    : Grain, IAdapterCatalogGrain
{
    public async Task Add(AdapterRegistration registration)
    {
        if (state.State.Adapters.TryGetValue(registration.AdapterId, out var known) && known == registration)
            return;
        state.State.Adapters[registration.AdapterId] = registration;
        await state.WriteOrRecreateAsync(logger, "adapter catalog");
    }

    public async Task Remove(string adapterId)
    {
        if (state.State.Adapters.Remove(adapterId))
            await state.WriteOrRecreateAsync(logger, "adapter catalog");
    }

    public Task<IReadOnlyList<AdapterRegistration>> List() =>
        Task.FromResult<IReadOnlyList<AdapterRegistration>>(state.State.Adapters.Values.OrderBy(a => a.AdapterId, StringComparer.Ordinal).ToList());
}
