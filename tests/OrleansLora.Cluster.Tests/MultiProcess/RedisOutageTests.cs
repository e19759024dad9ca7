using System.Text.Json;
using OrleansLora.Cluster.Tests.Support;
using Xunit.Abstractions;

namespace OrleansLora.Cluster.Tests.MultiProcess;

/// <summary>
/// Redis is down for a while, not only restarted: management calls that need it answer 503 with Retry-After
/// (or 504 when a Redis call times out), never 500, generation on an active adapter keeps serving or asks for
/// a retry, and once Redis is back (empty) everything answers 200 again.
/// </summary>
public sealed class RedisOutageTests(ITestOutputHelper output) : IDisposable
{
    private readonly SiloCluster _cluster = new("redis-outage", adapters: 2, output);

    [Fact]
    public async Task While_Redis_is_down_the_gateway_answers_retry_later_never_500_and_recovers()
    {
        var silo = _cluster.Start("silo-a", "both");
        await SiloCluster.WaitHealthy(silo);
        using var http = new GatewayClient(silo.BaseUrl);
        string[] adapters = [TestFiles.AdapterId(0), TestFiles.AdapterId(1)];
        await using var load = new HttpLoad(silo.BaseUrl, adapters, requestTimeout: TimeSpan.FromSeconds(45));
        await SiloCluster.WaitServingAsync(http, load, devices: 1, adapters);

        _cluster.Redis.Kill();
        output.WriteLine("redis killed");
        var answers = new List<(string What, int Status, string Body)>();
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(8);
        for (int i = 0; DateTime.UtcNow < until; i++)
        {
            var (listStatus, list) = await http.GetAsync("/v1/adapters");
            answers.Add(("GET /v1/adapters", listStatus, list.GetRawText()));
            var (loadStatus, loaded) = await http.PostAsync("/v1/load_lora_adapter", new { lora_name = $"outage-{i}", lora_path = adapters[0] });
            answers.Add(("POST /v1/load_lora_adapter", loadStatus, loaded.GetRawText()));
            var chat = await load.Send(adapters[1]);
            answers.Add(("chat on an active adapter", chat.Status, chat.Detail));
        }
        foreach (var group in answers.GroupBy(a => (a.What, a.Status)))
            output.WriteLine($"during the outage: {group.Key.What} → {group.Key.Status} ×{group.Count()}  {group.First().Body[..Math.Min(200, group.First().Body.Length)]}");
        var wrong = answers.Where(a => a.Status is not (200 or 503 or 504)).ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} answers during the Redis outage were neither 200, 503 nor 504: " +
            string.Join(" | ", wrong.Take(3).Select(a => $"{a.What}: {a.Status} {a.Body}")));
        foreach (var (what, status, body) in answers.Where(a => a.Status is 503 or 504))
        {
            using var doc = JsonDocument.Parse(body.Length > 0 ? body : "{}");
            Assert.True(doc.RootElement.TryGetProperty("error", out var error) && error.TryGetProperty("code", out _),
                $"{what} answered {status} without the OpenAI error shape: {body}");
        }

        _cluster.Redis.StartEmpty();
        output.WriteLine("redis started again, empty");
        await Phases.WaitUntil(async () => (await http.GetAsync("/v1/adapters")).Status == 200, TimeSpan.FromSeconds(60), "after the outage", "GET /v1/adapters answering 200");
        await Phases.WaitUntil(async () => (await http.PostAsync("/v1/load_lora_adapter", new { lora_name = "after-outage", lora_path = adapters[0] })).Status == 200,
            TimeSpan.FromSeconds(60), "after the outage", "load_lora_adapter answering 200");
        await Phases.WaitUntil(async () => (await load.Send("after-outage")).Status == 200, TimeSpan.FromSeconds(60), "after the outage", "the adapter loaded after the outage serving");
    }

    public void Dispose() => _cluster.Dispose();
}
