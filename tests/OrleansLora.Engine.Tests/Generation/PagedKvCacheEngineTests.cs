using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Sampling;
using OrleansLora.Engine.Tests.Adapters;
using OrleansLora.Engine.Tests.Support;

namespace OrleansLora.Engine.Tests.Generation;

/// <summary>
/// The engine over a paged KV cache gives every request the greedy tokens the fixed-slot cache gives
/// it, while it reuses cached prefixes across requests, evicts them under pressure and preempts
/// running sequences when the blocks run out; and an adapter's cached blocks never serve another
/// adapter or the base model. Tiny model: one position of KV is 512 bytes, a 16-token block 8 KiB.
/// </summary>
public sealed class PagedKvCacheEngineTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>
{
    private const long BlockBytes = 16 * 512;
    private const int MaxLength = 128; // 8 blocks

    private static int[] RandomPrompt(int seed, int length)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => rng.Next(0, 50257)).ToArray();
    }

    private InferenceEngineOptions Options(int kvBlockSize, long kvBytes = 16L * 1024 * 1024, bool prefixCaching = true, int maxBatchSize = 8) => new()
    {
        ModelPath = model.Path,
        MaxSequenceLength = MaxLength,
        KvBlockSize = kvBlockSize,
        KvCacheBytes = kvBytes,
        PrefixCaching = prefixCaching,
        MaxBatchSize = maxBatchSize,
        MaxBatchTokens = 64,
    };

    private static GenerationRequest Greedy(int[] prompt, int newTokens, string? adapterId = null) => new()
    {
        PromptTokens = prompt,
        AdapterId = adapterId,
        Sampling = SamplingParams.Greedy with { MaxNewTokens = newTokens, IgnoreEos = true },
    };

    /// <summary>Each prompt alone on a fixed-slot engine: the expected tokens.</summary>
    private async Task<int[][]> SlotTokens(IReadOnlyList<int[]> prompts, int newTokens)
    {
        using var engine = InferenceEngine.Create(Options(kvBlockSize: 0));
        var result = new int[prompts.Count][];
        for (int i = 0; i < prompts.Count; i++)
            result[i] = await AdapterEngines.Run(engine, Greedy(prompts[i], newTokens));
        return result;
    }

    /// <summary>
    /// The engine publishes its block counts between steps, after the last chunk may already have
    /// reached the caller: waits (generously, the machine may be loaded) until every block is idle.
    /// </summary>
    private static async Task<EngineStatistics> WhenIdle(InferenceEngine engine)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (engine.Statistics is var stats && stats.KvBlocksUsed != 0 && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        return engine.Statistics;
    }

    [Fact]
    public async Task Requests_sharing_a_prefix_reuse_its_blocks_and_get_the_tokens_of_a_fresh_computation()
    {
        var system = RandomPrompt(1, 40); // two full blocks and 8 tokens
        int[][] prompts = [[.. system, .. RandomPrompt(2, 5)], [.. system, .. RandomPrompt(3, 9)], [.. system, .. RandomPrompt(2, 5)]];
        var expected = await SlotTokens(prompts, 12);

        using var engine = InferenceEngine.Create(Options(kvBlockSize: 16));
        var first = await AdapterEngines.Run(engine, Greedy(prompts[0], 12));
        Assert.Equal(0, engine.Statistics.PrefixHitTokens);
        var second = await AdapterEngines.Run(engine, Greedy(prompts[1], 12));
        Assert.Equal(32, engine.Statistics.PrefixHitTokens); // the system prompt's two full blocks
        // The same prompt again: 45 tokens, so at most two full blocks before the last token.
        var third = await AdapterEngines.Run(engine, Greedy(prompts[2], 12));
        Assert.Equal(32 + 32, engine.Statistics.PrefixHitTokens);
        Assert.Equal(expected[0], first);
        Assert.Equal(expected[1], second);
        Assert.Equal(expected[2], third);
        var stats = await WhenIdle(engine);
        Assert.Equal(16, stats.KvBlockSize);
        Assert.Equal(45 + 49 + 45, stats.PrefixLookupTokens);
        Assert.True(stats.PrefixHitRate > 0.4, $"hit rate {stats.PrefixHitRate}");
        Assert.True(stats.KvBlocksCached >= 3);
        Assert.Equal(0, stats.KvBlocksUsed); // nothing runs: every block is free or cached-and-idle
        Assert.Equal(stats.KvBlocks, stats.KvBlocksFree);
    }

    [Fact]
    public async Task Concurrent_requests_sharing_a_prefix_get_the_tokens_of_each_alone()
    {
        var system = RandomPrompt(4, 50);
        var prompts = Enumerable.Range(0, 6).Select(i => (int[])[.. system, .. RandomPrompt(10 + i, 3 + i)]).ToArray();
        var expected = await SlotTokens(prompts, 10);
        using var engine = InferenceEngine.Create(Options(kvBlockSize: 16));
        await AdapterEngines.Run(engine, Greedy(prompts[0], 10)); // caches the shared blocks
        var together = await Task.WhenAll(prompts.Select(p => AdapterEngines.Run(engine, Greedy(p, 10))));
        for (int i = 0; i < prompts.Length; i++)
            Assert.Equal(expected[i], together[i]);
        Assert.True(engine.Statistics.PrefixHitTokens >= 6 * 48, $"hits {engine.Statistics.PrefixHitTokens}");
    }

    [Fact]
    public async Task The_same_prompt_on_two_adapters_and_the_base_model_never_shares_blocks()
    {
        using var root = new TempDirectory("olora-paged-adapters");
        var adapters = AdapterEngines.Write(model.Path, root.Path, [4, 4]);
        var prompt = RandomPrompt(5, 40);
        using var engine = AdapterEngines.Create(model.Path, adapters, Options(kvBlockSize: 16));
        var onA0 = await AdapterEngines.Run(engine, Greedy(prompt, 8, "a0"));
        var onA1 = await AdapterEngines.Run(engine, Greedy(prompt, 8, "a1"));
        var onBase = await AdapterEngines.Run(engine, Greedy(prompt, 8));
        Assert.Equal(0, engine.Statistics.PrefixHitTokens);
        var onA0Again = await AdapterEngines.Run(engine, Greedy(prompt, 8, "a0"));
        Assert.Equal(32, engine.Statistics.PrefixHitTokens);
        Assert.Equal(onA0, onA0Again);

        // Each equals its own computation on fixed slots; the adapters really change the output.
        using var slots = AdapterEngines.Create(model.Path, adapters, Options(kvBlockSize: 0));
        Assert.Equal(await AdapterEngines.Run(slots, Greedy(prompt, 8, "a0")), onA0);
        Assert.Equal(await AdapterEngines.Run(slots, Greedy(prompt, 8, "a1")), onA1);
        Assert.Equal(await AdapterEngines.Run(slots, Greedy(prompt, 8)), onBase);
        Assert.NotEqual(onA0, onA1);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Sequences_preempted_when_blocks_run_out_finish_with_the_tokens_they_get_alone(bool prefixCaching)
    {
        // 4 sequences of 20 prompt + 40 generated tokens need 4 blocks each at the end; 10 blocks
        // hold all four prompts (2 blocks each) but not their growth.
        var prompts = Enumerable.Range(0, 4).Select(i => RandomPrompt(20 + i, 20)).ToArray();
        var expected = await SlotTokens(prompts, 40);
        using var engine = InferenceEngine.Create(Options(kvBlockSize: 16, kvBytes: 10 * BlockBytes, prefixCaching: prefixCaching));
        Assert.Equal(10, engine.Statistics.KvBlocks);
        var results = await Task.WhenAll(prompts.Select(p => AdapterEngines.Run(engine, Greedy(p, 40))));
        for (int i = 0; i < prompts.Length; i++)
            Assert.Equal(expected[i], results[i]);
        var stats = await WhenIdle(engine);
        Assert.True(stats.Preemptions > 0, "the budget was meant to force preemption");
        Assert.Equal(0, stats.KvBlocksUsed);
        Assert.Equal(10, stats.KvBlocksFree);
    }

    [Fact]
    public async Task Cached_blocks_are_evicted_under_pressure_and_later_requests_stay_correct()
    {
        // 9 blocks: one sequence of 128 positions needs 8. Each 40-token request caches 2-3 blocks.
        var prompts = Enumerable.Range(0, 6).Select(i => RandomPrompt(30 + i, 40)).Append(RandomPrompt(30, 40)).ToArray();
        var expected = await SlotTokens(prompts, 6);
        using var engine = InferenceEngine.Create(Options(kvBlockSize: 16, kvBytes: 9 * BlockBytes));
        for (int i = 0; i < prompts.Length; i++)
            Assert.Equal(expected[i], await AdapterEngines.Run(engine, Greedy(prompts[i], 6)));
        var stats = engine.Statistics;
        Assert.True(stats.KvBlockEvictions > 0, "the budget was meant to force evictions");
        Assert.True(stats.KvBlocksCached <= 9);
        Assert.Equal(0, stats.PrefixHitTokens); // the first prompt's blocks were evicted before it came back
    }

    [Fact]
    public void A_budget_without_room_for_one_full_length_sequence_is_refused_at_start()
    {
        var error = Assert.Throws<ArgumentException>(() => InferenceEngine.Create(Options(kvBlockSize: 16, kvBytes: 7 * BlockBytes)));
        Assert.Contains("needs 8", error.Message);
    }
}
