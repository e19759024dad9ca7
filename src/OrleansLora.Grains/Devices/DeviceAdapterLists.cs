using OrleansLora.Engine.Generation;

namespace OrleansLora.Grains.Devices;

/// <summary>
/// The adapters each local engine holds in memory and those it holds pins for, read from its control queue (served
/// between steps). Placement and the load publisher need them within seconds, and a step may run long, so a read waits
/// at most <see cref="Wait"/>; past it the last list read for that device stands in (these lists change rarely).
/// One per silo, shared by the load publisher and the GPU grains.
/// </summary>
public sealed class DeviceAdapterLists(LocalDevices devices)
{
    public static readonly TimeSpan Wait = TimeSpan.FromMilliseconds(500);

    private readonly Lists[] _last = Enumerable.Repeat(new Lists([], []), devices.Count).ToArray();

    /// <param name="Cached">Adapters in host or device memory.</param>
    /// <param name="Pinned">Adapters holding one of the engine's pins.</param>
    /// <param name="Late">The engine did not answer within <see cref="Wait"/>: these are the last lists read.</param>
    public sealed record Lists(IReadOnlyList<string> Cached, IReadOnlyList<string> Pinned, bool Late = false);

    public async Task<Lists> ReadAsync(InferenceEngine engine, int device, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        try
        {
            var adapters = await engine.GetAdaptersAsync(cancellationToken).WaitAsync(Wait, cancellationToken);
            var lists = new Lists(
                adapters.Where(a => a.Residency != AdapterResidencyLevel.Disk).Select(a => a.AdapterId).ToList(),
                DeviceLoadReader.PinnedIds(adapters));
            Volatile.Write(ref _last[device], lists);
            return lists;
        }
        catch (TimeoutException)
        {
            return Volatile.Read(ref _last[device]) with { Late = true };
        }
    }
}
