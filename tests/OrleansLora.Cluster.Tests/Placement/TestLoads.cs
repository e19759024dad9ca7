using System.Net;
using OrleansLora.Devices;

namespace OrleansLora.Cluster.Tests.Placement;

/// <summary>Synthetic silos and device loads for the placement unit tests.</summary>
internal static class TestLoads
{
    private static int _nextPort = 40000;

    public static SiloAddress NewSilo() => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, Interlocked.Increment(ref _nextPort)), 1);

    public static DeviceLoad Load(SiloAddress silo, int slots, int pinned, int waiting = 0, double rps = 0, params string[] cached) => new()
    {
        Silo = silo,
        MaxLoras = slots + 1,
        AdapterSlots = slots,
        PinnedAdapters = pinned,
        WaitingRequests = waiting,
        MaxBatchSize = 8,
        CachedAdapters = cached,
        RequestsPerSecond = rps,
    };
}
