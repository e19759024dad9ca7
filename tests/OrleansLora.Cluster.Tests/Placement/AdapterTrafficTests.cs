using Microsoft.Extensions.Time.Testing;
using OrleansLora.Grains.Placement;

namespace OrleansLora.Cluster.Tests.Placement;

/// <summary>Measured request rates over the sliding window, on a fake clock.</summary>
public sealed class AdapterTrafficTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-04T00:00:00Z"));

    [Fact]
    public void RatesCountTheWindowOrTheTimeSinceTheAdapterArrived()
    {
        var traffic = new AdapterTraffic(_time);
        for (int second = 0; second < 20; second++)
        {
            for (int i = 0; i < 4; i++)
                traffic.Record("steady", 0);
            if (second >= 18)
                traffic.Record("new", 1);
            _time.Advance(TimeSpan.FromSeconds(1));
        }
        var rates = traffic.Rates().ToDictionary(r => r.AdapterId);
        Assert.Equal(4, rates["steady"].RequestsPerSecond, 1e-9); // 40 requests in the last 10 s
        Assert.Equal(1, rates["new"].RequestsPerSecond, 1e-9); // 2 requests in the 2 s since it arrived
        Assert.Equal(1, rates["new"].Device);
    }

    [Fact]
    public void AnIdleAdapterDecaysToZeroAndAForgottenOneIsGone()
    {
        var traffic = new AdapterTraffic(_time);
        traffic.Record("a", 0);
        traffic.Record("b", 0);
        traffic.Forget("b");
        _time.Advance(AdapterTraffic.Window + TimeSpan.FromSeconds(1));
        var rate = Assert.Single(traffic.Rates());
        Assert.Equal("a", rate.AdapterId);
        Assert.Equal(0, rate.RequestsPerSecond);
    }
}
