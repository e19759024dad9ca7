using Microsoft.Extensions.Time.Testing;
using OrleansLora.Adapters;
using OrleansLora.Grains.Placement;
using static OrleansLora.Cluster.Tests.Placement.TestLoads;

namespace OrleansLora.Cluster.Tests.Placement;

/// <summary>The placement choice from a silo's local view, on synthetic silos and a fake clock.</summary>
public sealed class DeviceLoadViewTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-04T00:00:00Z"));
    private DeviceLoadView View() => new(_time);

    [Fact]
    public void PrefersTheSiloWithMoreFreeSlots()
    {
        var view = View();
        var (x, y) = (NewSilo(), NewSilo());
        view.Update(x, [Load(x, slots: 8, pinned: 7)]);
        view.Update(y, [Load(y, slots: 8, pinned: 2)]);
        Assert.Equal(y, view.Choose("fresh-adapter", [x, y]));
    }

    [Fact]
    public void PrefersASiloThatAlreadyHoldsTheWeightsWhenItHasRoom()
    {
        var view = View();
        var (x, y) = (NewSilo(), NewSilo());
        view.Update(x, [Load(x, slots: 8, pinned: 6, cached: "warm-adapter")]);
        view.Update(y, [Load(y, slots: 8, pinned: 0)]);
        Assert.Equal(x, view.Choose("warm-adapter", [x, y]));
    }

    [Fact]
    public void AnAdapterGoesBackToTheSiloHoldingItsPinEvenWithNoSlotLeftThere()
    {
        var view = View();
        var (x, y) = (NewSilo(), NewSilo());
        // x is full, but one of its pins is held for "returning" (its activation was dropped by a directory failure).
        view.Update(x, [Load(x, slots: 2, pinned: 2, cached: ["returning", "other"]) with { PinnedAdapterIds = ["other", "returning"] }]);
        view.Update(y, [Load(y, slots: 2, pinned: 0)]);
        Assert.Equal(x, view.Choose("returning", [x, y]));
        // It took no new slot on x, so it reserved none: y's free slots still go first for a new adapter, and x,
        // with none free, is never chosen over y.
        Assert.Equal(y, view.Choose("new-1", [x, y]));
        Assert.Equal(y, view.Choose("new-2", [x, y]));
    }

    [Fact]
    public void APinHeldOnASiloThatIsNotACandidateDoesNotPlaceThere()
    {
        var view = View();
        var (x, y) = (NewSilo(), NewSilo());
        view.Update(x, [Load(x, slots: 2, pinned: 1) with { PinnedAdapterIds = ["returning"] }]);
        view.Update(y, [Load(y, slots: 2, pinned: 0)]);
        Assert.Equal(y, view.Choose("returning", [y]));
    }

    [Fact]
    public void PrefersTheSiloWithLessRequestLoadOverMoreFreeSlots()
    {
        var view = View();
        var (x, y) = (NewSilo(), NewSilo());
        view.Update(x, [Load(x, slots: 8, pinned: 1, rps: 30, cached: "a")]);
        view.Update(y, [Load(y, slots: 8, pinned: 4, rps: 5, cached: "b")]);
        Assert.Equal(y, view.Choose("new-adapter", [x, y]));
    }

    [Fact]
    public void ABurstOfPlacementsNeverExceedsTheFreeSlots()
    {
        var view = View();
        var (x, y) = (NewSilo(), NewSilo());
        view.Update(x, [Load(x, slots: 3, pinned: 0)]);
        view.Update(y, [Load(y, slots: 3, pinned: 0)]);
        // No publish in between: the view counts its own reservations.
        var chosen = Enumerable.Range(0, 6).Select(i => view.Choose($"burst-{i}", [x, y])).ToList();
        Assert.Equal(3, chosen.Count(c => c == x));
        Assert.Equal(3, chosen.Count(c => c == y));
    }

    [Fact]
    public void APublishThatShowsTheAdapterEndsItsReservation()
    {
        var view = View();
        var (x, y) = (NewSilo(), NewSilo());
        view.Update(x, [Load(x, slots: 1, pinned: 0)]);
        view.Update(y, [Load(y, slots: 1, pinned: 0)]);
        var first = view.Choose("a", [x, y])!;
        var other = first == x ? y : x;
        Assert.Equal(other, view.Choose("b", [x, y])); // the first one's slot is reserved
        // The first silo publishes with "a" pinned and counted: no reservation on top of it.
        view.Update(first, [Load(first, slots: 2, pinned: 1, cached: "a")]);
        Assert.Equal(first, view.Choose("c", [x, y]));
    }

    [Fact]
    public void AnAdapterTheSiloNamesAbandonedGivesItsReservedSlotBack()
    {
        var view = View();
        var (x, y) = (NewSilo(), NewSilo());
        // x has the one free slot, but is busier: with no slot free anywhere, y would win.
        view.Update(x, [Load(x, slots: 1, pinned: 0, waiting: 6)]);
        view.Update(y, [Load(y, slots: 1, pinned: 1, cached: "resident")]);
        // An unknown id is placed on x (a reservation), and its activation is refused there.
        Assert.Equal(x, view.Choose("no-such-adapter", [x, y]));
        // x's publishes that do not name it keep the slot reserved: a real adapter goes to y.
        view.Update(x, [Load(x, slots: 1, pinned: 0, waiting: 6)]);
        Assert.Equal(y, view.Choose("real-1", [x, y]));
        // Once x names the id abandoned, the slot is free again.
        view.Update(x, [Load(x, slots: 1, pinned: 0, waiting: 6) with { AbandonedAdapters = ["no-such-adapter"] }]);
        Assert.Equal(x, view.Choose("real-2", [x, y]));
    }

    [Fact]
    public void APublishOlderThanTheOneHeldIsIgnored()
    {
        var view = View();
        var (x, y) = (NewSilo(), NewSilo());
        // The pin-change publish (later) arrives before a periodic one read earlier: the earlier one must not undo it.
        view.Update(x, [Load(x, slots: 1, pinned: 1, cached: "a") with { Sequence = 8 }]);
        view.Update(x, [Load(x, slots: 1, pinned: 0) with { Sequence = 7 }]);
        view.Update(y, [Load(y, slots: 1, pinned: 0) with { Sequence = 3 }]);
        Assert.Equal(1, view.Fresh().Single(l => l.Silo == x).PinnedAdapters);
        Assert.Equal(y, view.Choose("b", [x, y]));
        // A later one replaces it as before, whatever its clock says (a wall clock may step back).
        view.Update(x, [Load(x, slots: 1, pinned: 0) with { Sequence = 9, PublishedAt = DateTimeOffset.UnixEpoch }]);
        Assert.Equal(0, view.Fresh().Single(l => l.Silo == x).PinnedAdapters);
    }

    [Fact]
    public void ALowerSequenceIsTakenOnceWhatIsHeldIsStale()
    {
        // What is held stopped counting (the silo's publishes failed to arrive for a while); whatever comes now is
        // newer than nothing, so it is taken rather than leaving the silo out of placement.
        var view = View();
        var x = NewSilo();
        view.Update(x, [Load(x, slots: 2, pinned: 2) with { Sequence = 50 }]);
        _time.Advance(DeviceLoadView.StaleAfter);
        view.Update(x, [Load(x, slots: 2, pinned: 0) with { Sequence = 1 }]);
        Assert.Equal(0, view.Fresh().Single().PinnedAdapters);
    }

    [Fact]
    public void OnlySilosThatPublishedDevicesRecentlyAreCandidates()
    {
        var view = View();
        var gatewayOnly = NewSilo(); // publishes nothing: it has no devices
        Assert.Null(view.Choose("anything", [gatewayOnly]));
        var worker = NewSilo();
        view.Update(worker, [Load(worker, slots: 1, pinned: 1)]); // full: still chosen, the adapter then runs from swap slots
        Assert.Equal(worker, view.Choose("anything", [gatewayOnly, worker]));
        Assert.True(view.HasDevices(worker));

        _time.Advance(DeviceLoadView.StaleAfter);
        Assert.Null(view.Choose("anything", [gatewayOnly, worker]));
        Assert.False(view.HasDevices(worker));
        Assert.Empty(view.Fresh());
    }

    [Fact]
    public void ASiloThatLeftTheMembershipIsForgotten()
    {
        var view = View();
        var (x, y) = (NewSilo(), NewSilo());
        view.Update(x, [Load(x, slots: 2, pinned: 0)]);
        view.Update(y, [Load(y, slots: 2, pinned: 0)]);
        view.Retain(new HashSet<SiloAddress> { y });
        Assert.Equal([y], view.Fresh().Select(l => l.Silo));
    }

    [Fact]
    public void TheBaseModelGoesToTheLeastBusySilo()
    {
        var view = View();
        var (x, y) = (NewSilo(), NewSilo());
        view.Update(x, [Load(x, slots: 8, pinned: 0, waiting: 6)]);
        view.Update(y, [Load(y, slots: 8, pinned: 8, waiting: 0)]);
        Assert.Equal(y, view.Choose(AdapterIds.BaseModel, [x, y]));
    }
}
