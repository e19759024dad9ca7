using OrleansLora.Cluster.Tests.Support;
using Xunit.Abstractions;

namespace OrleansLora.Cluster.Tests.MultiProcess;

/// <summary>
/// A silo joins and then leaves gracefully (SIGTERM) while requests run on a cluster whose pinnable slots are
/// all taken (issue 12 item 13). Survivors' grains whose directory entries the leaving silo held are dropped and
/// re-created; before the engine became the only record of pins, a re-created GPU grain forgot its pins, handed
/// the swap slot to a new pin and left every unpinned adapter on that device waiting forever. Now: every request
/// completes or gets a 503 with Retry-After, none hangs, no device holds more pins than its pinnable slots, the
/// cluster keeps every pin it had, and the adapters that are not pinned still serve.
/// </summary>
public sealed class GracefulLeaveTests(ITestOutputHelper output) : IDisposable
{
    private const int Adapters = 8;
    private const int PinnablePerDevice = 2;
    private static readonly string[] SmallDevices = ["--OrleansLora:Engine:MaxLoras=3", "--OrleansLora:Worker:SwapSlots=1", "--OrleansLora:Worker:PinOnActivation=true", "--OrleansLora:Worker:Rebalance=false"];
    private readonly SiloCluster _cluster = new("graceful-leave", Adapters, output);

    [Fact]
    public async Task ASiloJoiningAndLeavingUnderLoadLosesNoPinAndLeavesNoRequestHanging()
    {
        var a = _cluster.Start("silo-a", "both", SmallDevices, fastFailureDetection: false);
        var b = _cluster.Start("silo-b", "worker", SmallDevices, fastFailureDetection: false);
        var c = _cluster.Start("silo-c", "worker", SmallDevices, fastFailureDetection: false);
        await SiloCluster.WaitHealthy(a, b, c);
        using var http = new GatewayClient(a.BaseUrl);
        string[] adapters = [.. Enumerable.Range(0, Adapters).Select(TestFiles.AdapterId)];
        await using var load = new HttpLoad(a.BaseUrl, adapters, requestTimeout: TimeSpan.FromSeconds(45));
        await SiloCluster.WaitServingAsync(http, load, devices: 3, adapters);
        int pinnedTotal = 3 * PinnablePerDevice;
        await Phases.WaitUntil(async () => (await http.DevicesAsync()).Sum(d => d.Pinned) == pinnedTotal, TimeSpan.FromSeconds(30), "warm-up", $"{pinnedTotal} adapters pinned over three devices");

        // A fourth silo joins under load, then leaves gracefully.
        load.Start(loops: 3);
        var d = _cluster.Start("silo-d", "worker", SmallDevices, fastFailureDetection: false);
        await SiloCluster.WaitHealthy(d);
        await Phases.WaitUntil(async () => (await http.DevicesAsync()).Count == 4, TimeSpan.FromSeconds(60), "join", "silo-d's device publishing");
        await Task.Delay(TimeSpan.FromSeconds(3));
        double leftAt = load.Now;
        d.Terminate();
        Assert.True(await d.WaitForExitAsync(TimeSpan.FromSeconds(60)), "phase \"leave\": silo-d did not exit within 60 s of SIGTERM");
        output.WriteLine($"{leftAt:F1} s: silo-d left (exit code {d.ExitCode})");
        await Phases.WaitUntil(async () => (await http.DevicesAsync()).Count == 3, TimeSpan.FromSeconds(30), "leave", "silo-d's device gone from /info");
        await Task.Delay(TimeSpan.FromSeconds(3));
        await load.StopAsync();

        load.Report(output);
        var dropped = _cluster.Silos.Where(s => s != d).SelectMany(s => s.Log().Split('\n').Where(l => l.Contains("deactivated (", StringComparison.Ordinal) && l.Contains("GPU grain", StringComparison.Ordinal)).Select(l => $"{s.Name}: {l.Trim()}")).ToList();
        output.WriteLine(dropped.Count == 0 ? "no survivor's GPU grain was re-created this run" : $"survivors' GPU grains re-created: {string.Join(" | ", dropped)}");

        load.AssertOnlyOkOrRetryLater($"silo-d left at {leftAt:F1} s");

        // Every adapter serves (pinned or through the swap slot), no device holds more pins than its pinnable
        // slots, and the cluster holds as many pins as before the join.
        foreach (var id in adapters)
        {
            var outcome = await load.Send(id);
            Assert.True(outcome.Status == 200, $"phase \"after the leave\": adapter {id} answered {outcome.Status}: {outcome.Detail}");
        }
        await Phases.WaitUntil(async () =>
        {
            var devices = await http.DevicesAsync();
            var over = devices.Where(x => x.Pinned > x.Slots).ToList();
            Assert.True(over.Count == 0, $"phase \"after the leave\": devices with more pins than pinnable slots: {string.Join(", ", over.Select(x => $"{x.Key} {x.Pinned}/{x.Slots}"))}");
            return devices.Sum(x => x.Pinned) == pinnedTotal;
        }, TimeSpan.FromSeconds(20), "after the leave", $"{pinnedTotal} adapters pinned again over the three survivors");
    }

    public void Dispose() => _cluster.Dispose();
}
