using Orleans.Concurrency;
using OrleansLora.Adapters;
using OrleansLora.Generation;

namespace OrleansLora.Grains;

/// <summary>
/// One LoRA adapter as a virtual actor (key: the adapter id, <see cref="AdapterIds.BaseModel"/> for the
/// base model alone). Its activation pins the adapter's weights into a device on its own silo and
/// unpins them when it deactivates; a deactivated adapter comes back on the next call.
/// </summary>
public interface IAdapterGrain : IGrainWithStringKey
{
    /// <summary>
    /// Streams a generation: text deltas and token ids, the last chunk with the finish reason and usage.
    /// Cancelling the token (or disposing the enumerator) frees the sequence in the engine.
    /// </summary>
    IAsyncEnumerable<GenerateChunk> Generate(GenerateRequest request, CancellationToken cancellationToken = default);

    /// <summary>Registers (or re-registers) the adapter from the adapter store; validates it on a worker silo.</summary>
    Task<AdapterDescription> Register(AdapterRegistration registration);

    /// <summary>
    /// Registers the adapter from the adapter store unless the id is already registered: an existing
    /// registration from the same source is kept and described, one from another source is refused with
    /// <see cref="Errors.AdapterConflictException"/>. What requests without admin rights may do (LoRAX's
    /// local source); checked and written in one grain turn, so concurrent requests cannot race it.
    /// </summary>
    Task<AdapterDescription> RegisterIfNew(AdapterRegistration registration);

    /// <summary>The adapter's configuration, placement and counters. Throws <see cref="Errors.AdapterNotFoundException"/> when unknown.</summary>
    [AlwaysInterleave]
    Task<AdapterDescription> Describe();

    /// <summary>Unpins the weights, forgets the registration and deactivates.</summary>
    Task Unload();

    /// <summary>Asks the adapter to deactivate when idle so placement can move it (a saturated device sheds adapters this way).</summary>
    [AlwaysInterleave, OneWay]
    Task Shed();
}
