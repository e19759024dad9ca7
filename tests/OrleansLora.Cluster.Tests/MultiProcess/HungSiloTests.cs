using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansLora.Client;
using OrleansLora.Cluster.Tests.Support;
using Xunit.Abstractions;

namespace OrleansLora.Cluster.Tests.MultiProcess;

/// <summary>
/// A worker silo process stops answering (SIGSTOP: its sockets stay open, so nothing fails fast). A request the
/// other silo's gateway sends to an adapter on it used to wait until the membership declared the silo dead, or
/// Orleans' response timeout (2 min): no grain-side deadline can end a request that never reached a grain. The
/// adapter grain now acknowledges every generation before anything that waits, and the gateway waits at most
/// <c>OrleansLora:Gateway:AcceptTimeout</c> for that: the request ends as a 503 <c>worker_unavailable</c> with
/// Retry-After; the .NET client (<c>OrleansLora:Client:AcceptTimeout</c>) throws <see cref="SiloUnavailableException"/>
/// as fast. After SIGCONT the silo serves again. Orleans' probes are left at their defaults here, so the
/// membership does not act within the test's bound.
/// </summary>
public sealed class HungSiloTests(ITestOutputHelper output) : IDisposable
{
    private const int Adapters = 4;
    private static readonly TimeSpan AcceptTimeout = TimeSpan.FromSeconds(3);
    private readonly SiloCluster _cluster = new("hung-silo", Adapters, output);

    [Fact]
    public async Task ARequestForAnAdapterOnAHungSiloEndsAsA503WithinTheAcceptTimeout()
    {
        string[] accept = [$"--OrleansLora:Gateway:AcceptTimeout={AcceptTimeout}"];
        var a = _cluster.Start("silo-a", "worker", accept, fastFailureDetection: false);
        var b = _cluster.Start("silo-b", "both", accept, fastFailureDetection: false);
        await SiloCluster.WaitHealthy(a, b);
        using var http = new GatewayClient(b.BaseUrl);
        string[] adapters = [.. Enumerable.Range(0, Adapters).Select(TestFiles.AdapterId)];
        await using (var load = new HttpLoad(b.BaseUrl, adapters, requestTimeout: TimeSpan.FromSeconds(45)))
            await SiloCluster.WaitServingAsync(http, load, devices: 2, adapters);
        string? onA = null;
        foreach (var id in adapters)
        {
            var (silo, _) = await http.AdapterAsync(id);
            if (silo is not null && silo.Contains($":{a.SiloPort}@", StringComparison.Ordinal))
                onA = id;
        }
        Assert.True(onA is not null, $"no adapter was placed on silo-a (port {a.SiloPort})");

        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddOrleansLoraClient(o =>
        {
            o.RedisConnectionString = _cluster.Redis.ConnectionString;
            o.ClusterId = _cluster.ClusterId;
            o.AcceptTimeout = AcceptTimeout;
        });
        using var host = builder.Build();
        await host.StartAsync();
        var orleans = host.Services.GetRequiredService<OrleansLoraClient>();
        Assert.Equal(2, (await orleans.GenerateAsync(onA, Requests.Greedy("warm", 2))).TokenIds.Count);

        using var client = new HttpClient { BaseAddress = new Uri(b.BaseUrl), Timeout = TimeSpan.FromSeconds(60) };
        object Chat(string content) => new { model = onA, messages = new[] { new { role = "user", content } }, max_tokens = 2 };
        a.Suspend();
        try
        {
            var watch = Stopwatch.StartNew();
            using var response = await client.PostAsJsonAsync("/v1/chat/completions", Chat("are you there"));
            watch.Stop();
            string body = await response.Content.ReadAsStringAsync();
            output.WriteLine($"{onA} on the hung silo-a: {(int)response.StatusCode} after {watch.Elapsed.TotalSeconds:0.0} s: {body}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("worker_unavailable", body, StringComparison.Ordinal);
            Assert.Contains("did not acknowledge", body, StringComparison.Ordinal);
            Assert.True(response.Headers.RetryAfter is not null, "a 503 without Retry-After");
            // The acceptance timeout plus slack for a loaded machine; the membership's default probes take longer.
            Assert.True(watch.Elapsed < AcceptTimeout + TimeSpan.FromSeconds(7), $"the request took {watch.Elapsed.TotalSeconds:0.0} s");

            // The .NET client bounds the same wait.
            watch.Restart();
            var error = await Assert.ThrowsAsync<SiloUnavailableException>(() => orleans.GenerateAsync(onA, Requests.Greedy("and you", 2)));
            watch.Stop();
            output.WriteLine($"the .NET client: {error.GetType().Name} after {watch.Elapsed.TotalSeconds:0.0} s: {error.Message}");
            Assert.Contains("did not acknowledge", error.Message, StringComparison.Ordinal);
            Assert.True(watch.Elapsed < AcceptTimeout + TimeSpan.FromSeconds(7), $"the client's request took {watch.Elapsed.TotalSeconds:0.0} s");
        }
        finally
        {
            a.Resume();
        }

        // Nothing stays broken: once silo-a answers again, its adapter serves.
        await Phases.WaitUntil(async () =>
        {
            using var retry = await client.PostAsJsonAsync("/v1/chat/completions", Chat("back again"));
            return retry.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(90), "resume", $"{onA} serving after SIGCONT");
    }

    public void Dispose() => _cluster.Dispose();
}
