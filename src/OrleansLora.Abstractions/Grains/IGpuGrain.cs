using Orleans.Concurrency;
using OrleansLora.Adapters;
using OrleansLora.Devices;
using OrleansLora.Generation;

namespace OrleansLora.Grains;

/// <summary>
/// The cluster-addressable handle of one device's inference engine, placed on exactly the silo that
/// owns the device. Key: <see cref="DeviceKey"/> (<c>"{siloAddress}|{deviceIndex}"</c>).
/// </summary>
public interface IGpuGrain : IGrainWithStringKey
{
    /// <summary>
    /// Activates the grain (it then publishes its load every second). The silo calls it every few
    /// seconds, so an activation the runtime dropped (directory recovery after a silo failure) returns.
    /// </summary>
    [ResponseTimeout("00:00:10")]
    Task Start();

    /// <summary>
    /// Reads the adapter from the silo's adapter store, validates it and holds it in a device slot until
    /// <see cref="Unpin"/> — when a pinnable slot is free; otherwise the adapter is served from host memory
    /// through the device's swap slots (<see cref="AdapterPin.Pinned"/> false). Idempotent: an adapter holds
    /// at most one pin, whoever asks and however often. Cancelling withdraws a pin still waiting for its slot.
    /// </summary>
    Task<AdapterPin> Pin(string adapterId, string source, CancellationToken cancellationToken = default);

    /// <summary>Releases the adapter's pin, if it holds one.</summary>
    Task Unpin(string adapterId);

    /// <summary>Unpins the adapter and frees its memory on this device (adapter unloaded from the cluster).</summary>
    Task Unregister(string adapterId);

    /// <summary>Validates an adapter from the store without pinning it (registration).</summary>
    Task<AdapterInfo> Validate(string adapterId, string source);

    /// <summary>Runs a generation on the device; <paramref name="adapterId"/> null for the base model.</summary>
    IAsyncEnumerable<GenerateChunk> Submit(string? adapterId, GenerateRequest request, CancellationToken cancellationToken = default);

    Task<DeviceLoad> GetLoad();
}
