using System.Diagnostics;
using OrleansLora.Cluster.Tests.Support;
using Xunit.Abstractions;

namespace OrleansLora.Cluster.Tests.MultiProcess;

/// <summary>
/// Redis restarts empty (no persistence) under load, then a worker is killed (issue 12 item 11): the cluster
/// restores its membership table, management keeps answering, a load registers, the killed worker's
/// adapters serve again from the survivor within 10 s, and a new worker joins — no 500 anywhere, only 503
/// with Retry-After while failing over, and no request left hanging.
/// </summary>
public sealed class RedisRestartTests(ITestOutputHelper output) : IDisposable
{
    private const int Adapters = 6;
    private static readonly TimeSpan FailoverTarget = TimeSpan.FromSeconds(10);
    private readonly SiloCluster _cluster = new("redis-restart", Adapters, output);

    [Fact]
    public async Task TheClusterRecoversFromAnEmptyRedisAndStillFailsOverAKilledWorker()
    {
        var gateway = _cluster.Start("silo-a", "both");
        var worker = _cluster.Start("silo-b", "worker");
        await SiloCluster.WaitHealthy(gateway, worker);
        using var http = new GatewayClient(gateway.BaseUrl);
        string[] adapters = [.. Enumerable.Range(0, Adapters).Select(TestFiles.AdapterId)];
        await using var load = new HttpLoad(gateway.BaseUrl, adapters, requestTimeout: TimeSpan.FromSeconds(45));
        await SiloCluster.WaitServingAsync(http, load, devices: 2, adapters);
        var onWorker = new List<string>();
        foreach (var id in adapters)
        {
            var (silo, _) = await http.AdapterAsync(id);
            if (silo is not null && silo.Contains($":{worker.SiloPort}@", StringComparison.Ordinal))
                onWorker.Add(id);
        }
        output.WriteLine($"on the worker that will be killed: {string.Join(", ", onWorker)}");
        Assert.NotEmpty(onWorker);

        // Phase 1: Redis restarts empty while requests run.
        load.Start(loops: 3);
        await Task.Delay(TimeSpan.FromSeconds(1));
        _cluster.Redis.RestartEmpty();
        double restartedAt = load.Now;
        output.WriteLine($"{restartedAt:F1} s: redis restarted empty");
        await Phases.WaitUntil(async () => (await http.GetAsync("/v1/adapters")).Status == 200, TimeSpan.FromSeconds(20), "after the Redis restart", "GET /v1/adapters answering 200");
        for (int i = 0; i < 5; i++)
        {
            var (status, body) = await http.GetAsync("/v1/adapters");
            Assert.True(status == 200, $"after the Redis restart, GET /v1/adapters answered {status}: {body}");
        }
        var (loadStatus, loadBody) = await http.PostAsync("/v1/load_lora_adapter", new { lora_name = "after-restart", lora_path = adapters[0] });
        Assert.True(loadStatus == 200, $"after the Redis restart, load_lora_adapter answered {loadStatus}: {loadBody}");
        var served = await load.Send("after-restart");
        Assert.True(served.Status == 200, $"the adapter loaded after the Redis restart answered {served.Status}: {served.Detail}");
        // The membership table is whole again: the silos' periodic refreshes have restored it.
        await Task.Delay(TimeSpan.FromSeconds(3));

        // Phase 2: the worker dies; its adapters come back on the survivor.
        worker.KillHard();
        var killed = Stopwatch.StartNew();
        double killedAt = load.Now;
        output.WriteLine($"{killedAt:F1} s: silo-b killed");
        var backAfter = new Dictionary<string, double>();
        foreach (var id in onWorker)
        {
            await Phases.WaitUntil(async () => (await load.Send(id)).Status == 200, TimeSpan.FromSeconds(60), "failover after the kill", $"adapter {id} serving again");
            backAfter[id] = killed.Elapsed.TotalSeconds;
        }
        output.WriteLine($"served again after the kill: {string.Join(", ", backAfter.Select(kv => $"{kv.Key} {kv.Value:F1} s"))}");

        // Phase 3: a new worker joins the cluster whose membership was restored.
        var replacement = _cluster.Start("silo-b2", "worker");
        await SiloCluster.WaitHealthy(replacement);
        await Phases.WaitUntil(async () => (await http.DevicesAsync()).Count == 2, TimeSpan.FromSeconds(60), "rejoin after the restart", "silo-b2's device publishing");
        await Task.Delay(TimeSpan.FromSeconds(2));
        await load.StopAsync();

        load.Report(output);
        load.AssertOnlyOkOrRetryLater($"redis restarted at {restartedAt:F1} s, kill at {killedAt:F1} s");
        Assert.True(backAfter.Values.Max() < FailoverTarget.TotalSeconds,
            $"failover took {backAfter.Values.Max():F1} s (target < {FailoverTarget.TotalSeconds} s): {string.Join(", ", backAfter.Select(kv => $"{kv.Key} {kv.Value:F1} s"))}");
    }

    public void Dispose() => _cluster.Dispose();
}
