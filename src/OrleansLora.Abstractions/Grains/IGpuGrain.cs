using Orleans.Concurrency;
using OrleansLora.Adapters;
using OrleansLora.Devices;

namespace OrleansLora.Grains;

/// <summary>
/// The cluster-addressable handle of one device's inference engine, placed on exactly the silo that
/// owns the device. Key: <see cref="DeviceKey"/> (<c>"{siloAddress}|{deviceIndex}"</c>).
/// </summary>
public interface IGpuGrain : IGrainWithStringKey
{
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

    /// <summary>The device's load now (placement reads the load its silo publishes, not this).</summary>
    Task<DeviceLoad> GetLoad();
}
