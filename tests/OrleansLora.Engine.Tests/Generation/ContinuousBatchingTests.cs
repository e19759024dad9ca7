using OrleansLora.Engine.Caching;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Sampling;
using OrleansLora.Engine.Tests.Support;

namespace OrleansLora.Engine.Tests.Generation;

public sealed class ContinuousBatchingTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>
{
    private static int[] RandomPrompt(Random rng, int length) =>
        Enumerable.Range(0, length).Select(_ => rng.Next(0, 50257)).ToArray();

    private InferenceEngine CreateEngine(int maxBatchSize, int maxBatchTokens = 512) => InferenceEngine.Create(new InferenceEngineOptions
    {
        ModelPath = model.Path,
        MaxBatchSize = maxBatchSize,
        MaxBatchTokens = maxBatchTokens,
        MaxSequenceLength = 256,
        KvCacheBytes = 64L * 1024 * 1024,
    });

    private static async Task<(int[] Tokens, FinishReason? Reason)> Collect(IAsyncEnumerable<GenerationChunk> chunks)
    {
        var tokens = new List<int>();
        FinishReason? reason = null;
        await foreach (var c in chunks)
        {
            tokens.AddRange(c.TokenIds);
            reason = c.FinishReason ?? reason;
        }
        return (tokens.ToArray(), reason);
    }

    [Fact]
    public async Task BatchOfFourDifferentLengthsYieldsSameTokensAsEachAlone()
    {
        var rng = new Random(7);
        int[][] prompts = [RandomPrompt(rng, 3), RandomPrompt(rng, 17), RandomPrompt(rng, 40), RandomPrompt(rng, 9)];
        var sampling = SamplingParams.Greedy with { MaxNewTokens = 24, IgnoreEos = true };

        var alone = new List<int[]>();
        using (var engine = CreateEngine(maxBatchSize: 1))
        {
            foreach (var p in prompts)
                alone.Add((await Collect(engine.GenerateAsync(new GenerationRequest { PromptTokens = p, Sampling = sampling }))).Tokens);
        }

        using (var engine = CreateEngine(maxBatchSize: 4, maxBatchTokens: 16))
        {
            var tasks = prompts.Select(p => Collect(engine.GenerateAsync(new GenerationRequest { PromptTokens = p, Sampling = sampling }))).ToArray();
            var together = await Task.WhenAll(tasks);
            for (int i = 0; i < prompts.Length; i++)
            {
                Assert.Equal(24, together[i].Tokens.Length);
                Assert.Equal(alone[i], together[i].Tokens);
                Assert.Equal(FinishReason.Length, together[i].Reason);
            }
            // All four ran concurrently: with 4 sequences, the 24 decode steps were shared.
            Assert.True(engine.Statistics.Steps < 4 * 24, $"expected shared steps, got {engine.Statistics.Steps}");
        }
    }

    /// <summary>
    /// Decode attention reads consecutive slots in place and gathers scattered ones: both must give
    /// each sequence the logits it gets decoding alone (its own slot, its own length).
    /// </summary>
    [Theory]
    [InlineData(new[] { 1, 2, 3 })]    // consecutive: a view of the cache
    [InlineData(new[] { 3, 0, 2 })]    // scattered and out of order: a gather
    [InlineData(new[] { 2 })]          // one sequence in a middle slot
    public void BatchedDecodeEqualsEachSequenceAlone(int[] slots)
    {
        var rng = new Random(slots.Sum() * 31 + slots.Length);
        using var llama = LlamaModel.Load(model.Path, new ModelLoadOptions { MaxSequenceLength = 64 });
        using var cache = llama.CreateKvCache(new KvCacheOptions { MaxSequenceLength = 64, MaxSlots = 4 });
        var lengths = new int[4];
        for (int slot = 0; slot < 4; slot++)
        {
            lengths[slot] = 5 + 7 * slot;
            int[] prompt = RandomPrompt(rng, lengths[slot]);
            using var prefill = new ForwardBatch([new BatchSequence(slot, 0, prompt.Length)], prompt, 64);
            llama.Forward(prefill, cache).Dispose();
        }
        int[] next = slots.Select(_ => rng.Next(0, 50257)).ToArray();
        int vocab = llama.Config.VocabSize;
        float[] batched;
        using (var batch = new ForwardBatch(slots.Select(s => new BatchSequence(s, lengths[s], 1)).ToList(), next, 64))
        using (var logits = llama.Forward(batch, cache))
            batched = logits.data<float>().ToArray();
        for (int i = 0; i < slots.Length; i++)
        {
            // Writing the same key/value again at the same position leaves the cache unchanged.
            using var alone = new ForwardBatch([new BatchSequence(slots[i], lengths[slots[i]], 1)], new[] { next[i] }, 64);
            using var logits = llama.Forward(alone, cache);
            float[] single = logits.data<float>().ToArray();
            for (int v = 0; v < vocab; v++)
                Assert.True(Math.Abs(single[v] - batched[i * vocab + v]) <= 1e-4 * Math.Max(1, Math.Abs(single[v])),
                    $"slot {slots[i]}: logit {v} batched {batched[i * vocab + v]} alone {single[v]}");
        }
    }

    [Fact]
    public async Task DecodeWithCacheEqualsFullRecomputation()
    {
        var rng = new Random(11);
        int[] prompt = RandomPrompt(rng, 12);
        const int steps = 16;
        int[] generated;
        using (var engine = CreateEngine(maxBatchSize: 2))
            generated = (await Collect(engine.GenerateAsync(new GenerationRequest { PromptTokens = prompt, Sampling = SamplingParams.Greedy with { MaxNewTokens = steps, IgnoreEos = true } }))).Tokens;
        Assert.Equal(steps, generated.Length);

        // Recompute every position from scratch in one prefill and check the greedy choices agree,
        // and that the logits of an incremental (one token at a time) pass equal the full pass.
        int[] all = [.. prompt, .. generated];
        using var llama = LlamaModel.Load(model.Path, new ModelLoadOptions { MaxSequenceLength = 64 });
        using var fullCache = llama.CreateKvCache(new KvCacheOptions { MaxSequenceLength = 64, MaxSlots = 1 });
        using var fullBatch = new ForwardBatch([new BatchSequence(0, 0, all.Length)], all, 64);
        using var fullLogits = llama.Forward(fullBatch, fullCache, allPositions: true);
        float[] full = fullLogits.data<float>().ToArray();
        int vocab = llama.Config.VocabSize;
        for (int i = 0; i < steps; i++)
        {
            var row = full.AsSpan((prompt.Length - 1 + i) * vocab, vocab);
            Assert.Equal(generated[i], ArgMax(row));
        }

        using var stepCache = llama.CreateKvCache(new KvCacheOptions { MaxSequenceLength = 64, MaxSlots = 1 });
        using (var prefill = new ForwardBatch([new BatchSequence(0, 0, prompt.Length)], prompt, 64))
            llama.Forward(prefill, stepCache).Dispose();
        double worst = 0;
        for (int p = prompt.Length; p < all.Length; p++)
        {
            using var one = new ForwardBatch([new BatchSequence(0, p, 1)], new[] { all[p] }, 64);
            using var logits = llama.Forward(one, stepCache);
            float[] inc = logits.data<float>().ToArray();
            for (int v = 0; v < vocab; v++)
                worst = Math.Max(worst, Math.Abs(inc[v] - full[p * vocab + v]) / Math.Max(1.0, Math.Abs(full[p * vocab + v])));
        }
        Assert.True(worst < 1e-4, $"incremental decode differs from full recomputation by {worst:E2} (relative)");
    }

    [Fact]
    public async Task CancellationFreesTheSlotAndOtherSequencesContinue()
    {
        using var engine = CreateEngine(maxBatchSize: 2);
        var sampling = SamplingParams.Greedy with { MaxNewTokens = 200, IgnoreEos = true };
        using var cts = new CancellationTokenSource();
        int received = 0;
        var cancelled = Task.Run(async () =>
        {
            await foreach (var _ in engine.GenerateAsync(new GenerationRequest { PromptTokens = [1, 2, 3], Sampling = sampling }, cts.Token))
            {
                if (++received == 3)
                    await cts.CancelAsync();
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        var other = await Collect(engine.GenerateAsync(new GenerationRequest { PromptTokens = [4, 5, 6], Sampling = sampling with { MaxNewTokens = 5 } }));
        Assert.Equal(5, other.Tokens.Length);
        // Both slots must be free again once the survivor finished and the engine noticed the cancellation.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (engine.Statistics.FreeKvSlots != engine.Statistics.TotalKvSlots && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        Assert.Equal(engine.Statistics.TotalKvSlots, engine.Statistics.FreeKvSlots);
    }

    [Fact]
    public async Task LongPromptIsPrefilledInChunksWithoutChangingTheResult()
    {
        var rng = new Random(3);
        int[] prompt = RandomPrompt(rng, 100);
        var sampling = SamplingParams.Greedy with { MaxNewTokens = 8, IgnoreEos = true };
        int[] whole, chunked;
        using (var engine = CreateEngine(maxBatchSize: 1, maxBatchTokens: 512))
            whole = (await Collect(engine.GenerateAsync(new GenerationRequest { PromptTokens = prompt, Sampling = sampling }))).Tokens;
        using (var engine = CreateEngine(maxBatchSize: 1, maxBatchTokens: 7))
        {
            chunked = (await Collect(engine.GenerateAsync(new GenerationRequest { PromptTokens = prompt, Sampling = sampling }))).Tokens;
            Assert.True(engine.Statistics.Steps >= 100 / 7 + 8, $"expected chunked prefill, got {engine.Statistics.Steps} steps");
        }
        Assert.Equal(whole, chunked);
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
                best = i;
        }
        return best;
    }
}
