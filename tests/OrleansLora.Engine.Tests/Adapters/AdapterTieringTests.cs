using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Quantization;
using OrleansLora.Engine.Tests.Support;
using static OrleansLora.Engine.Tests.Adapters.AdapterEngines;

namespace OrleansLora.Engine.Tests.Adapters;

/// <summary>Adapters move between disk, the host cache and device slots, and come back unchanged; pins hold slots.</summary>
public sealed class AdapterTieringTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>, IDisposable
{
    private readonly TempDirectory _dir = new("olora-tiers");
    private static readonly int[] Prompt = [464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13];

    [Fact]
    public async Task EvictedAdaptersReloadFromDiskWithIdenticalOutputs()
    {
        string[] adapters = Write(model.Path, _dir.Path, [8, 16]);
        // One slot and one host entry: a0 → a1 evicts a0 from both, so a0's second run reads the disk again.
        using var engine = Create(model.Path, adapters, new InferenceEngineOptions { MaxLoras = 1, MaxCpuLoras = 1, MaxLoraRank = 16 });
        Assert.Equal(AdapterResidencyLevel.Disk, await ResidencyOf(engine, "a0")); // registration reads headers only

        int[] first = await Run(engine, Greedy(Prompt, "a0"));
        Assert.Equal(AdapterResidencyLevel.Device, await ResidencyOf(engine, "a0"));
        int[] other = await Run(engine, Greedy(Prompt, "a1"));
        Assert.Equal(AdapterResidencyLevel.Disk, await ResidencyOf(engine, "a0"));
        Assert.Equal(AdapterResidencyLevel.Device, await ResidencyOf(engine, "a1"));
        int[] again = await Run(engine, Greedy(Prompt, "a0"));

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        var stats = engine.Statistics;
        Assert.Equal(3, stats.HostCacheMisses);
        Assert.Equal(0, stats.HostCacheHits);
        Assert.Equal(2, stats.HostCacheEvictions);
        Assert.Equal(3, stats.AdapterLoads);
        Assert.Equal(2, stats.AdapterEvictions);
        Assert.Equal(3, stats.ColdLoads);
        Assert.True(stats.ColdLoadMillisecondsP50 > 0, "cold load time not measured");
        Assert.Equal(AdapterResidencyLevel.Disk, await ResidencyOf(engine, "a1"));
    }

    [Fact]
    public async Task AdaptersEvictedFromASlotComeBackFromTheHostCache()
    {
        string[] adapters = Write(model.Path, _dir.Path, [8, 16]);
        using var engine = Create(model.Path, adapters, new InferenceEngineOptions { MaxLoras = 1, MaxCpuLoras = 4, MaxLoraRank = 16 });
        int[] first = await Run(engine, Greedy(Prompt, "a0"));
        await Run(engine, Greedy(Prompt, "a1"));
        Assert.Equal(AdapterResidencyLevel.Host, await ResidencyOf(engine, "a0"));
        int[] again = await Run(engine, Greedy(Prompt, "a0"));

        Assert.Equal(first, again);
        var stats = engine.Statistics;
        Assert.Equal(2, stats.HostCacheMisses);
        Assert.Equal(1, stats.HostCacheHits);
        Assert.Equal((2L, 1L), (stats.ColdLoads, stats.WarmLoads));
        Assert.Equal(2, stats.HostCachedAdapters);
        Assert.Equal(AdapterResidencyLevel.Host, await ResidencyOf(engine, "a1"));
    }

    [Fact]
    public async Task APinnedAdapterIsNeverEvictedUnderPressure()
    {
        string[] adapters = Write(model.Path, _dir.Path, [4, 8, 8, 16]);
        using var engine = Create(model.Path, adapters, new InferenceEngineOptions { MaxLoras = 2, MaxBatchSize = 4, MaxLoraRank = 16, AdapterExchangeSteps = 1 });
        int[] pinnedAlone = await Run(engine, Greedy(Prompt, "a0"));
        await engine.PinAdapterAsync("a0");
        Assert.Equal(AdapterResidencyLevel.Device, await ResidencyOf(engine, "a0"));

        // Three other adapters share the one unpinned slot; a0 is the least recently used
        // throughout, so plain LRU (or the exchange) would pick it first.
        var others = Enumerable.Range(0, 12).Select(i => Run(engine, Greedy([.. Prompt, i], $"a{1 + i % 3}", newTokens: 4))).ToArray();
        await Task.WhenAll(others);
        var status = (await engine.GetAdaptersAsync()).Single(a => a.AdapterId == "a0");
        Assert.Equal((AdapterResidencyLevel.Device, 1), (status.Residency, status.Pins));
        var stats = engine.Statistics;
        Assert.True(stats.AdapterEvictions >= 2, $"expected the other adapters to evict each other, saw {stats.AdapterEvictions} evictions");
        Assert.Equal(1, stats.AdapterSlotsPinned);
        long loadsBefore = stats.AdapterLoads;
        Assert.Equal(pinnedAlone, await Run(engine, Greedy(Prompt, "a0")));
        Assert.Equal(loadsBefore, engine.Statistics.AdapterLoads); // served from its slot, not reloaded
    }

    [Fact]
    public async Task PinningBeyondTheSlotsIsRefusedAndUnpinFreesASlot()
    {
        string[] adapters = Write(model.Path, _dir.Path, [4, 8, 16]);
        using var engine = Create(model.Path, adapters, new InferenceEngineOptions { MaxLoras = 2, MaxLoraRank = 16 });
        await engine.PinAdapterAsync("a0");
        await engine.PinAdapterAsync("a1");
        await engine.PinAdapterAsync("a0"); // a second pin on a resident adapter needs no slot

        var full = await Assert.ThrowsAsync<AdapterCapacityException>(() => engine.PinAdapterAsync("a2"));
        Assert.Contains("\"a2\"", full.Message);
        Assert.Contains("all 2 adapter slots are pinned", full.Message);
        Assert.Contains("OrleansLora:Engine:MaxLoras", full.Message);

        await engine.UnpinAdapterAsync("a1");
        await engine.PinAdapterAsync("a2"); // takes a1's slot, now idle and unpinned
        var byId = (await engine.GetAdaptersAsync()).ToDictionary(a => a.AdapterId);
        Assert.Equal((AdapterResidencyLevel.Device, 2), (byId["a0"].Residency, byId["a0"].Pins));
        Assert.Equal((AdapterResidencyLevel.Host, 0), (byId["a1"].Residency, byId["a1"].Pins));
        Assert.Equal((AdapterResidencyLevel.Device, 1), (byId["a2"].Residency, byId["a2"].Pins));

        await Assert.ThrowsAsync<InvalidOperationException>(() => engine.UnpinAdapterAsync("a1"));
        var inUse = await Assert.ThrowsAsync<InvalidOperationException>(() => engine.UnregisterAdapterAsync("a0"));
        Assert.Contains("2 pins", inUse.Message);
        await engine.UnpinAdapterAsync("a0");
        await engine.UnpinAdapterAsync("a0");
        await engine.UnregisterAdapterAsync("a0");
        Assert.False(engine.IsAdapterRegistered("a0"));
        Assert.Throws<ArgumentException>(() => engine.GenerateAsync(Greedy(Prompt, "a0")));
        Assert.DoesNotContain(await engine.GetAdaptersAsync(), a => a.AdapterId == "a0");
        // The id can be registered again, from another directory.
        engine.RegisterAdapter("a0", adapters[2]);
        Assert.Equal(await Run(engine, Greedy(Prompt, "a2")), await Run(engine, Greedy(Prompt, "a0")));
    }

    [Fact]
    public async Task AdaptersRunOnAQuantizedBase()
    {
        string[] adapters = Write(model.Path, _dir.Path, [8]);
        using var engine = Create(model.Path, adapters, new InferenceEngineOptions { Quantization = QuantizationMode.Nf4, MaxLoras = 1, MaxLoraRank = 8 });
        int[] withAdapter = await Run(engine, Greedy(Prompt, "a0"));
        int[] plain = await Run(engine, Greedy(Prompt, null));
        Assert.Equal(8, withAdapter.Length);
        Assert.NotEqual(plain, withAdapter);
    }

    public void Dispose() => _dir.Dispose();
}
