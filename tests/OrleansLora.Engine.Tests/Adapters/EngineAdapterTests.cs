using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Sampling;
using OrleansLora.Engine.Tests.Support;

namespace OrleansLora.Engine.Tests.Adapters;

/// <summary>Requests for different adapters and the base model share the engine's batches.</summary>
public sealed class EngineAdapterTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>, IDisposable
{
    private readonly TempDirectory _dir = new("olora-engine-lora");

    private string[] WriteAdapters() => AdapterEngines.Write(model.Path, _dir.Path, [4, 8, 16]);

    private InferenceEngine CreateEngine(int maxBatchSize, int maxLoras, string[] adapters) =>
        AdapterEngines.Create(model.Path, adapters, new InferenceEngineOptions { MaxBatchSize = maxBatchSize, MaxLoras = maxLoras, MaxLoraRank = 16 });

    private static Task<int[]> Run(InferenceEngine engine, GenerationRequest request) => AdapterEngines.Run(engine, request);

    [Fact]
    public async Task MixedAdapterBatchesWithEvictionsMatchEachRequestAlone()
    {
        string[] adapters = WriteAdapters();
        string?[] wanted = ["a0", "a1", "a2", null, "a0", "a2"];
        var rng = new Random(8);
        var requests = wanted.Select(a => new GenerationRequest
        {
            PromptTokens = Enumerable.Range(0, rng.Next(3, 20)).Select(_ => rng.Next(0, 50257)).ToArray(),
            AdapterId = a,
            Sampling = SamplingParams.Greedy with { MaxNewTokens = 8, IgnoreEos = true },
        }).ToArray();

        var alone = new List<int[]>();
        using (var engine = CreateEngine(maxBatchSize: 1, maxLoras: 3, adapters))
        {
            foreach (var r in requests)
                alone.Add(await Run(engine, r));
        }
        // Two slots for three adapters: some requests wait for a slot and adapters are evicted.
        using (var engine = CreateEngine(maxBatchSize: 4, maxLoras: 2, adapters))
        {
            var together = await Task.WhenAll(requests.Select(r => Run(engine, r)));
            for (int i = 0; i < requests.Length; i++)
                Assert.Equal(alone[i], together[i]);
            Assert.True(engine.AdapterCounters.Evictions > 0, "expected evictions with 3 adapters in 2 slots");
        }
        // The adapters really change the output.
        Assert.NotEqual(alone[0], await RunBase(requests[0]));
    }

    private async Task<int[]> RunBase(GenerationRequest request)
    {
        using var engine = CreateEngine(maxBatchSize: 1, maxLoras: 1, []);
        return await Run(engine, request with { AdapterId = null });
    }

    [Fact]
    public void UnknownAdaptersAndTooLargeRanksAreRefused()
    {
        string[] adapters = WriteAdapters();
        using var engine = CreateEngine(maxBatchSize: 2, maxLoras: 2, []);
        var ex = Assert.Throws<ArgumentException>(() => engine.GenerateAsync(new GenerationRequest { PromptTokens = [1, 2], AdapterId = "nope" }));
        Assert.Contains("nope", ex.Message);
        engine.RegisterAdapter("ok", adapters[2]);
        Assert.Throws<ArgumentException>(() => engine.RegisterAdapter("ok", adapters[0]));

        using var small = InferenceEngine.Create(new InferenceEngineOptions { ModelPath = model.Path, MaxSequenceLength = 64, MaxBatchSize = 1, MaxBatchTokens = 64, KvCacheBytes = 1 << 20, MaxLoraRank = 8 });
        var tooBig = Assert.Throws<ModelFormatException>(() => small.RegisterAdapter("big", adapters[2]));
        Assert.Contains("16", tooBig.Message);
    }

    public void Dispose() => _dir.Dispose();
}
