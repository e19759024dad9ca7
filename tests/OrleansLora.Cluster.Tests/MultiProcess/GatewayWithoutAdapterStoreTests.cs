using OrleansLora.Cluster.Tests.Support;
using Xunit.Abstractions;

namespace OrleansLora.Cluster.Tests.MultiProcess;

/// <summary>
/// A gateway-only silo started without an adapter store (no <c>--adapters</c>): it reads adapter metadata through
/// the grains, so loading, listing, refusing and serving adapters all work through it, and it never creates an
/// adapter directory of its own.
/// </summary>
public sealed class GatewayWithoutAdapterStoreTests(ITestOutputHelper output) : IDisposable
{
    private readonly SiloCluster _cluster = new("gateway-without-store", 2, output);

    [Fact]
    public async Task AGatewayWithoutTheAdapterStoreLoadsListsAndServesAdapters()
    {
        var worker = _cluster.Start("worker", "worker", fastFailureDetection: false);
        var gateway = _cluster.Start("gateway", "gateway", fastFailureDetection: false, adapterStore: false);
        await SiloCluster.WaitHealthy(worker, gateway);
        using var http = new GatewayClient(gateway.BaseUrl);
        await Phases.WaitUntil(async () => (await http.DevicesAsync()).Count == 1, TimeSpan.FromSeconds(60), "start-up", "the worker's device known to the gateway");

        // Registered under a new name from a store directory only the worker can see.
        var (status, body) = await http.PostAsync("/v1/load_lora_adapter", new { lora_name = "renamed", lora_path = TestFiles.AdapterId(1) });
        Assert.True(status == 200, $"load_lora_adapter answered {status}: {body}");
        Assert.Equal(TestFiles.AdapterId(1), body.GetProperty("source").GetString());

        // A malformed path is refused by the gateway from its text; a missing one by the worker.
        (status, body) = await http.PostAsync("/v1/load_lora_adapter", new { lora_name = "escape", lora_path = "../outside" });
        Assert.Equal(400, status);
        Assert.Equal("lora_path", body.GetProperty("error").GetProperty("param").GetString());
        (status, body) = await http.PostAsync("/v1/load_lora_adapter", new { lora_name = "ghost", lora_path = "no-such-dir" });
        Assert.Equal(404, status);

        // Served: the registered name, and an id of the store on first use.
        foreach (var model in new[] { "renamed", TestFiles.AdapterId(0) })
        {
            (status, body) = await http.PostAsync("/v1/chat/completions", new { model, messages = new[] { new { role = "user", content = "Hello" } }, max_tokens = 2 });
            Assert.True(status == 200, $"chat with {model} answered {status}: {body}");
            Assert.Equal(2, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        }

        // Listed with the worker's metadata (rank read from the files on the worker).
        (status, body) = await http.GetAsync("/v1/adapters");
        Assert.Equal(200, status);
        var renamed = body.GetProperty("data").EnumerateArray().Single(a => a.GetProperty("id").GetString() == "renamed");
        Assert.True(renamed.GetProperty("rank").GetInt32() > 0);

        // The gateway's data directory holds no adapter store.
        Assert.False(Directory.Exists(Path.Combine(_cluster.Files.Root, "gateway", "adapters")), "the gateway-only silo created an adapter directory");
    }

    public void Dispose() => _cluster.Dispose();
}
