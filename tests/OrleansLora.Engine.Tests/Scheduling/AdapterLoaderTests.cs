using Microsoft.Extensions.Logging.Abstractions;
using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Tests.Support;

namespace OrleansLora.Engine.Tests.Scheduling;

/// <summary>The disk → host → device pipeline over a <see cref="FakeModelRunner"/>: reads in the background, once each, into the host cache and a slot.</summary>
public sealed class AdapterLoaderTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly FakeModelRunner _runner = new(adapterSlots: 2);
    private readonly AdapterResidency _residency;
    private readonly AdapterLoader _loader;
    private readonly SemaphoreSlim _woken = new(0);

    public AdapterLoaderTests()
    {
        _residency = new AdapterResidency(_runner, hostCapacity: 2);
        _loader = new AdapterLoader(_runner, _residency, id => new AdapterLoadOptions { Name = id }, () => _woken.Release(), 2, NullLogger.Instance);
    }

    private void Register(string id) =>
        _residency.Register(new AdapterRegistration(id, _runner.InspectAdapter("dir-" + id, new AdapterLoadOptions { Name = id })));

    /// <summary>Waits for <paramref name="reads"/> background reads to report, then takes them in as the engine thread does.</summary>
    private List<(string Id, Exception Error)> Drain(int reads)
    {
        for (int i = 0; i < reads; i++)
            Assert.True(_woken.Wait(Deadline), "a background read never reported");
        var failed = new List<(string, Exception)>();
        _loader.DrainLoaded((r, e) => failed.Add((r.Id, e)));
        return failed;
    }

    [Fact]
    public void An_adapter_is_read_once_then_served_from_host_memory()
    {
        Register("a");
        _loader.EnsureLoading("a", prefetchLimit: 4);
        _loader.EnsureLoading("a", prefetchLimit: 4); // in flight: not read again
        Assert.Empty(Drain(1));
        Assert.Equal(["a"], _runner.Prepares);
        Assert.True(_loader.IsReady("a"));

        Assert.True(_loader.TryInstall("a", slot: 0, prefetchLimit: 4, step: 1));
        Assert.Equal(["a"], _runner.Loads);
        Assert.Equal(1, _loader.ColdLoads.Count);
        Assert.Equal(0, _residency.SlotOf("a"));

        // Replaced in its slot by b, a comes back from the host cache: a warm load, no second read.
        Register("b");
        _loader.EnsureLoading("b", prefetchLimit: 4);
        Drain(1);
        Assert.True(_loader.TryInstall("b", slot: 0, prefetchLimit: 4, step: 2));
        Assert.Equal(-1, _residency.SlotOf("a"));
        Assert.True(_residency.HostCache.Contains("a"));
        Assert.True(_loader.TryInstall("a", slot: 1, prefetchLimit: 4, step: 3));
        Assert.Equal(1, _loader.WarmLoads.Count);
        Assert.Equal(["a", "b"], _runner.Prepares);
        Assert.Equal(["a", "b", "a"], _runner.Loads);
    }

    [Fact]
    public void The_prefetch_limit_bounds_reads_in_flight_and_prepared()
    {
        using var gate = new ManualResetEventSlim(false);
        _runner.ReadGate = gate;
        foreach (string id in new[] { "a", "b", "c" })
            Register(id);
        foreach (string id in new[] { "a", "b", "c" })
            _loader.EnsureLoading(id, prefetchLimit: 2);
        Assert.True(_loader.IsOnTheWay("a") && _loader.IsOnTheWay("b"));
        Assert.False(_loader.IsOnTheWay("c"));
        gate.Set();
        Drain(2);
        Assert.Equal(["a", "b"], _runner.Prepares.Order());
    }

    [Fact]
    public void A_failed_read_is_reported_for_its_adapter()
    {
        _runner.FailingReads["dir-bad"] = true;
        Register("bad");
        _loader.EnsureLoading("bad", prefetchLimit: 4);
        var failed = Assert.Single(Drain(1));
        Assert.Equal("bad", failed.Id);
        Assert.IsType<InvalidOperationException>(failed.Error);
        Assert.Contains("cannot read dir-bad", failed.Error.Message);
        Assert.False(_loader.IsOnTheWay("bad"));
    }

    [Fact]
    public void A_read_that_finishes_after_unregistration_is_dropped_and_freed()
    {
        using var gate = new ManualResetEventSlim(false);
        _runner.ReadGate = gate;
        Register("gone");
        _loader.EnsureLoading("gone", prefetchLimit: 4);
        _residency.Unregister("gone");
        _loader.Forget("gone");
        gate.Set();
        Assert.Empty(Drain(1));
        Assert.False(_loader.IsReady("gone"));
        Assert.Equal(0, _runner.LiveHostAdapters);
    }

    public void Dispose()
    {
        _loader.Dispose();
        _residency.Dispose();
        _woken.Dispose();
    }
}
