using OrleansLora.Devices;

namespace OrleansLora.Grains.Devices;

/// <summary>Reads a device's load from its engine's statistics (no call into the engine's queue).</summary>
internal static class DeviceLoadReader
{
    /// <summary>The adapters holding one of the engine's pins, from its adapter list.</summary>
    public static IReadOnlyList<string> PinnedIds(IEnumerable<Engine.Generation.AdapterStatus> adapters) =>
        adapters.Where(a => a.Pins > 0).Select(a => a.AdapterId).ToList();

    public static DeviceLoad Read(DeviceEngines devices, int index, SiloAddress silo, IReadOnlyList<string> cached, IReadOnlyList<string> pinned, double requestsPerSecond, DateTimeOffset now)
    {
        var s = devices[index].Statistics;
        var device = devices[index].Runner.DescribeDevice();
        return new DeviceLoad
        {
            Silo = silo,
            DeviceIndex = index,
            DeviceKind = device.Kind,
            DeviceName = device.Name,
            MemoryTotalBytes = device.MemoryTotalBytes,
            MemoryUsedBytes = device.MemoryUsedBytes,
            MaxLoras = s.AdapterSlots,
            AdapterSlots = devices.PinnableSlots,
            OccupiedSlots = s.AdapterSlotsUsed,
            PinnedAdapters = s.AdapterSlotsPinned,
            RunningSequences = s.RunningSequences,
            WaitingRequests = s.WaitingRequests,
            MaxBatchSize = devices.Options.MaxBatchSize,
            TokensPerSecond = s.TokensPerSecond,
            StepMilliseconds = s.LastStepMilliseconds,
            AdapterLoads = s.AdapterLoads,
            AdapterEvictions = s.AdapterEvictions,
            CachedAdapters = cached,
            PinnedAdapterIds = pinned,
            RequestsPerSecond = requestsPerSecond,
            PublishedAt = now,
            BaseModel = devices.BaseModelName,
            KvBlocks = s.KvBlocks,
            KvBlocksUsed = s.KvBlocksUsed,
            KvBlocksCached = s.KvBlocksCached,
            PrefixHitRate = s.PrefixHitRate,
            Preemptions = s.Preemptions,
        };
    }
}
