using OrleansLora.Grains.Placement;
using static OrleansLora.Cluster.Tests.Placement.TestLoads;

namespace OrleansLora.Cluster.Tests.Placement;

/// <summary>Which adapter an overloaded silo hands over, from measured request load.</summary>
public sealed class RebalancePlanTests
{
    private const double Threshold = 0.15;

    [Fact]
    public void AnOverloadedSiloMovesTheAdapterThatEvensOutBestToTheLeastLoadedSilo()
    {
        var (hot, mid, cold) = (NewSilo(), NewSilo(), NewSilo());
        var cluster = new[] { Load(hot, 8, 3, rps: 30), Load(mid, 8, 3, rps: 20), Load(cold, 8, 3, rps: 10) };
        AdapterRate[] mine = [new("a", 0, 19), new("b", 0, 9), new("c", 0, 2)];
        var move = RebalancePlan.Choose(hot, cluster, mine, Threshold);
        Assert.NotNull(move);
        Assert.Equal(cold, move.Target);
        Assert.Equal("b", move.AdapterId); // the gap is 20: moving 10 evens the two out, 9 is nearest
    }

    [Fact]
    public void ASiloWithinTheThresholdOfTheMeanMovesNothing()
    {
        var (a, b, c) = (NewSilo(), NewSilo(), NewSilo());
        var cluster = new[] { Load(a, 8, 3, rps: 11), Load(b, 8, 3, rps: 10), Load(c, 8, 3, rps: 9) };
        Assert.Null(RebalancePlan.Choose(a, cluster, [new("x", 0, 1)], Threshold));
    }

    [Fact]
    public void AnAdapterTooHotToHelpStays()
    {
        var (hot, cold) = (NewSilo(), NewSilo());
        var cluster = new[] { Load(hot, 8, 1, rps: 40), Load(cold, 8, 1, rps: 10) };
        // Moving the 40 requests/s adapter would leave the other silo at 50 against 0: further apart than now.
        Assert.Null(RebalancePlan.Choose(hot, cluster, [new("only", 0, 40)], Threshold));
    }

    [Fact]
    public void AWorkerThatJoinedWithNoAdaptersReceivesOne()
    {
        var (a, b, joined) = (NewSilo(), NewSilo(), NewSilo());
        var cluster = new[] { Load(a, 8, 4, rps: 20), Load(b, 8, 4, rps: 20), Load(joined, 8, 0, rps: 0) };
        var move = RebalancePlan.Choose(a, cluster, [new("p", 0, 12), new("q", 0, 5), new("r", 0, 3)], Threshold);
        Assert.NotNull(move);
        Assert.Equal(joined, move.Target);
        Assert.Equal("p", move.AdapterId); // the gap is 20: moving 10 evens the two out, 12 is nearest
    }

    [Fact]
    public void AloneOrWithoutTrafficNothingMoves()
    {
        var (a, b) = (NewSilo(), NewSilo());
        Assert.Null(RebalancePlan.Choose(a, [Load(a, 8, 1, rps: 50)], [new("x", 0, 50)], Threshold));
        Assert.Null(RebalancePlan.Choose(a, [Load(a, 8, 1), Load(b, 8, 1)], [new("x", 0, 0)], Threshold));
    }
}
