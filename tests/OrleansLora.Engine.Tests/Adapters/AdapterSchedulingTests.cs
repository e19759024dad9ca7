using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Tests.Support;
using static OrleansLora.Engine.Tests.Adapters.AdapterEngines;

namespace OrleansLora.Engine.Tests.Adapters;

/// <summary>Fair exchange of slots between adapter queues, and batches that mix ranks up to 128.</summary>
public sealed class AdapterSchedulingTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>, IDisposable
{
    private readonly TempDirectory _dir = new("olora-sched");

    /// <summary>
    /// One slot, a busy adapter with 100 queued requests and a lone request for another adapter
    /// queued behind them. The policy bounds the lone request's wait: the busy adapter keeps the
    /// slot at most <c>AdapterExchangeSteps</c> (E) steps while another adapter waits, then takes no
    /// new requests and its running sequences finish within N steps (N new tokens each, the prompt
    /// fitting one step); the lone request then runs its own N steps. Steps do not advance while
    /// nothing runs (for instance while a disk read finishes), so it completes within E + 2N steps
    /// of its submission (+2 for the step boundaries). First come, first served would take about
    /// 100 / batch × N = 150 steps.
    /// </summary>
    [Fact]
    public async Task ALoneRequestIsNotStarvedByABusyAdapter()
    {
        const int exchangeSteps = 8, newTokens = 6, batch = 4;
        string[] adapters = Write(model.Path, _dir.Path, [8, 8]);
        using var engine = Create(model.Path, adapters, new InferenceEngineOptions
        {
            MaxLoras = 1,
            MaxBatchSize = batch,
            MaxLoraRank = 8,
            AdapterExchangeSteps = exchangeSteps,
        });
        // a1's weights are read once first and stay in the host cache: the bound is about slot exchange, and a disk
        // read that a loaded machine stretches over many fast steps (the busy adapter keeps the slot meanwhile, rather
        // than leave it idle) made it flaky.
        Assert.Equal(newTokens, (await Run(engine, Greedy([1, 2, 3, 4], "a1", newTokens))).Length);
        var busy = Enumerable.Range(0, 100).Select(i => Run(engine, Greedy([10 + i, 20, 30, 40], "a0", newTokens))).ToArray();
        // Let the busy adapter get going first, so the lone request really arrives behind it.
        long warm = engine.Statistics.Steps;
        while (engine.Statistics.Steps < warm + 3)
            await Task.Delay(5);
        long submitted = engine.Statistics.Steps;
        int[] lone = await Run(engine, Greedy([1, 2, 3, 4], "a1", newTokens));
        long waited = engine.Statistics.Steps - submitted;
        int busyDone = busy.Count(t => t.IsCompleted);
        await Task.WhenAll(busy);

        Assert.Equal(newTokens, lone.Length);
        const int bound = exchangeSteps + 2 * newTokens + 2;
        Assert.True(waited <= bound, $"the lone request took {waited} steps (bound {bound}); {busyDone} of the busy adapter's 100 requests had finished");
        Assert.True(busyDone < 50, $"{busyDone} busy requests finished before the lone one: not a fair exchange");
        Assert.All(busy, t => Assert.Equal(newTokens, t.Result.Length));
        Assert.True(engine.Statistics.AdapterEvictions >= 2, "the slot should have gone to a1 and back");
    }

    /// <summary>Ranks 1 to 128 and the base model in one batch give every sequence the tokens it gets alone.</summary>
    [Fact]
    public async Task MixedRanksUpTo128ShareABatch()
    {
        string[] adapters = Write(model.Path, _dir.Path, [1, 8, 64, 128]);
        var rng = new Random(12);
        string?[] wanted = ["a3", "a0", null, "a2", "a1", "a3"];
        var requests = wanted.Select(a => Greedy(Enumerable.Range(0, rng.Next(3, 15)).Select(_ => rng.Next(0, 50257)).ToArray(), a, newTokens: 6)).ToArray();

        var alone = new List<int[]>();
        using (var engine = Create(model.Path, adapters, new InferenceEngineOptions { MaxBatchSize = 1, MaxLoras = 1, MaxLoraRank = 128 }))
        {
            foreach (var r in requests)
                alone.Add(await Run(engine, r));
        }
        using (var engine = Create(model.Path, adapters, new InferenceEngineOptions { MaxBatchSize = 6, MaxLoras = 4, MaxLoraRank = 128 }))
        {
            // Registered and loaded first, so all six are admitted into the same steps.
            foreach (string id in new[] { "a0", "a1", "a2", "a3" })
                await engine.PinAdapterAsync(id);
            long steps = engine.Statistics.Steps;
            var together = await Task.WhenAll(requests.Select(r => Run(engine, r)));
            for (int i = 0; i < requests.Length; i++)
                Assert.Equal(alone[i], together[i]);
            Assert.True(engine.Statistics.Steps - steps <= 12, "the requests did not share steps"); // one after another: 36
        }
    }

    public void Dispose() => _dir.Dispose();
}
