using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Caching;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Quantization;
using OrleansLora.Engine.Tests.Support;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Tests.Adapters;

/// <summary>LoRA applied through the slot table and SGMV equals the merged model, and mixes per sequence in one batch.</summary>
public sealed class AdapterForwardTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>
{
    private const int Vocab = 50304;

    private static float[] Logits(LlamaModel llama, KvCache cache, IReadOnlyList<BatchSequence> parts, int[] tokens)
    {
        using var batch = new ForwardBatch(parts, tokens, cache.MaxSequenceLength);
        using var logits = llama.Forward(batch, cache, allPositions: true);
        return logits.data<float>().ToArray();
    }

    /// <summary>
    /// Both ways into a slot (the loaded adapter, and the prepared layout the engine's host cache
    /// keeps) equal the merged float32 model; on a quantized base the merge is into the
    /// dequantized weights, since the LoRA update is added after the quantized matmul.
    /// </summary>
    [Theory]
    [InlineData(8, 16.0, false, "all", QuantizationMode.None)]
    [InlineData(3, 6.0, true, "all", QuantizationMode.None)]           // rsLoRA, odd rank
    [InlineData(16, 8.0, false, "q_proj,v_proj", QuantizationMode.None)]
    [InlineData(128, 64.0, false, "all", QuantizationMode.None)]       // the largest rank the issue asks for
    [InlineData(8, 16.0, false, "all", QuantizationMode.Nf4)]
    [InlineData(16, 32.0, true, "q_proj,k_proj,down_proj", QuantizationMode.Int8)]
    public void LogitsEqualTheMergedModel(int rank, double alpha, bool rsLora, string targets, QuantizationMode quantization)
    {
        var baseConfig = ModelConfig.Load(model.Path);
        using var adapterDir = new TempDirectory("olora-lora");
        using var mergedDir = new TempDirectory("olora-merged");
        using var dequantizedDir = new TempDirectory("olora-dequant");
        PeftAdapterWriter.WriteRandom(baseConfig, adapterDir.Path, rank, alpha, LoraTargetModules.Parse(targets), seed: (ulong)rank);
        if (rsLora)
            AdapterTestFiles.EditConfig(adapterDir.Path, c => c["use_rslora"] = true);
        string mergeBase = model.Path;
        if (quantization != QuantizationMode.None)
        {
            ReferenceCheckpoints.WriteDequantized(model.Path, dequantizedDir.Path, quantization);
            mergeBase = dequantizedDir.Path;
        }
        ReferenceCheckpoints.WriteMerged(mergeBase, adapterDir.Path, mergedDir.Path, rsLora ? alpha / Math.Sqrt(rank) : alpha / rank);

        var rng = new Random(rank);
        int[] tokens = Enumerable.Range(0, 20).Select(_ => rng.Next(0, 50257)).ToArray();
        var part = new BatchSequence(0, 0, tokens.Length, AdapterSlot: 1);
        // Float32 tables: the comparison with the float64 merge is held to float32 rounding.
        var (withAdapter, withPrepared, plain) = AdapterLogits(adapterDir.Path, quantization, ScalarType.Float32, Math.Max(16, rank), part, tokens);
        float[] merged = MergedLogits(mergedDir.Path, part, tokens);

        double worst = ReferenceCheckpoints.WorstRelative(withAdapter, merged);
        Assert.True(worst < 1e-4, $"adapter logits differ from the merged model by {worst:E2}");
        double worstPrepared = ReferenceCheckpoints.WorstRelative(withPrepared, merged);
        Assert.True(worstPrepared < 1e-4, $"prepared-adapter logits differ from the merged model by {worstPrepared:E2}");
        Assert.True(ReferenceCheckpoints.WorstRelative(plain, merged) > 1e-2, "the adapter did not change the logits");
    }

    /// <summary>
    /// Decode steps of a LoRA sequence, with all layers and the adapter's updates in one native call on the paged cache,
    /// equal the merged model decoding the same tokens (itself on the base path): the SGMV updates there are the math.
    /// </summary>
    [Theory]
    [InlineData(QuantizationMode.None)]
    [InlineData(QuantizationMode.Nf4)]
    public void DecodeStepsInOneNativeCallEqualTheMergedModel(QuantizationMode quantization)
    {
        const int Rank = 8, Prompt = 6, Steps = 14, MaxLength = 32, Block = 4;
        const double Alpha = 16;
        var baseConfig = ModelConfig.Load(model.Path);
        using var adapterDir = new TempDirectory("olora-lora-decode");
        using var mergedDir = new TempDirectory("olora-merged-decode");
        using var dequantizedDir = new TempDirectory("olora-dequant-decode");
        PeftAdapterWriter.WriteRandom(baseConfig, adapterDir.Path, Rank, Alpha, LoraTargetModules.All, seed: 77);
        string mergeBase = model.Path;
        if (quantization != QuantizationMode.None)
        {
            ReferenceCheckpoints.WriteDequantized(model.Path, dequantizedDir.Path, quantization);
            mergeBase = dequantizedDir.Path;
        }
        ReferenceCheckpoints.WriteMerged(mergeBase, adapterDir.Path, mergedDir.Path, Alpha / Rank);
        var rng = new Random(78);
        int[] tokens = [.. Enumerable.Range(0, Prompt + Steps).Select(_ => rng.Next(0, 50257))];
        int[] blocks = [5, 2, 7, 0, 3, 6, 1, 4];

        float[][] Decode(LlamaModel llama, int slot)
        {
            using var cache = llama.CreatePagedKvCache(long.MaxValue, Block, MaxLength, maxBlocks: 8);
            using (var prefill = new ForwardBatch([new BatchSequence(0, 0, Prompt, slot, blocks)], tokens.AsSpan(0, Prompt), MaxLength))
            using (llama.Forward(prefill, cache))
            {
            }
            var rows = new float[Steps][];
            for (int p = Prompt; p < Prompt + Steps; p++)
            {
                using var step = new ForwardBatch([new BatchSequence(0, p, 1, slot, blocks)], tokens.AsSpan(p, 1), MaxLength);
                using var logits = llama.Forward(step, cache);
                rows[p - Prompt] = logits.data<float>().ToArray();
            }
            return rows;
        }

        float[][] withAdapter;
        using (var llama = LlamaModel.Load(model.Path, new ModelLoadOptions { MaxSequenceLength = MaxLength, Quantization = quantization, QuantizedCompute = QuantizedCompute.Float32 }))
        using (var table = new AdapterSlotTable(llama.Config, slots: 2, maxRank: Rank, ScalarType.Float32))
        using (var adapter = PeftAdapter.Load(adapterDir.Path, llama.Config))
        {
            llama.Adapters = table;
            table.Load(1, adapter);
            withAdapter = Decode(llama, 1);
            Assert.Equal(Steps, llama.NativeDecodeSteps);
        }
        float[][] merged;
        using (var llama = LlamaModel.Load(mergedDir.Path, new ModelLoadOptions { MaxSequenceLength = MaxLength }))
            merged = Decode(llama, -1);
        for (int i = 0; i < Steps; i++)
        {
            double worst = ReferenceCheckpoints.WorstRelative(withAdapter[i], merged[i]);
            Assert.True(worst < 1e-4, $"decode step {i}: adapter logits differ from the merged model by {worst:E2}");
        }
    }

    [Fact]
    public void ABatchMixingAdaptersOfDifferentRanksAndTheBaseEqualsEachAlone()
    {
        var baseConfig = ModelConfig.Load(model.Path);
        using var dirs = new TempDirectory("olora-mix");
        int[] ranks = [4, 8, 16];
        var adapters = new List<PeftAdapter>();
        try
        {
            for (int i = 0; i < ranks.Length; i++)
            {
                string dir = Path.Combine(dirs.Path, $"a{i}");
                PeftAdapterWriter.WriteRandom(baseConfig, dir, ranks[i], 2.0 * ranks[i], LoraTargetModules.All, seed: (ulong)(10 + i));
                adapters.Add(PeftAdapter.Load(dir, baseConfig));
            }
            using var llama = LlamaModel.Load(model.Path, new ModelLoadOptions { MaxSequenceLength = 64 });
            using var table = new AdapterSlotTable(llama.Config, slots: 4, maxRank: 16, llama.Dtype);
            llama.Adapters = table;
            for (int i = 0; i < adapters.Count; i++)
                table.Load(i + 1, adapters[i]); // slot 0 stays empty

            var rng = new Random(5);
            int[] lengths = [7, 12, 3, 9];
            int[] adapterSlots = [2, -1, 1, 3];
            var prompts = lengths.Select(n => Enumerable.Range(0, n).Select(_ => rng.Next(0, 50257)).ToArray()).ToArray();

            using var cache = llama.CreateKvCache(new KvCacheOptions { MaxSequenceLength = 64, MaxSlots = 4 });
            var parts = prompts.Select((p, i) => new BatchSequence(i, 0, p.Length, adapterSlots[i])).ToArray();
            float[] together = Logits(llama, cache, parts, prompts.SelectMany(p => p).ToArray());

            int offset = 0;
            for (int i = 0; i < prompts.Length; i++)
            {
                using var alone = llama.CreateKvCache(new KvCacheOptions { MaxSequenceLength = 64, MaxSlots = 1 });
                float[] single = Logits(llama, alone, [new BatchSequence(0, 0, prompts[i].Length, adapterSlots[i])], prompts[i]);
                double worst = ReferenceCheckpoints.WorstRelative(together.AsSpan(offset * Vocab, single.Length), single);
                Assert.True(worst < 1e-4, $"sequence {i} (adapter slot {adapterSlots[i]}) differs in the batch by {worst:E2}");
                offset += prompts[i].Length;
            }

            // Decode one more token for all four in one step (one row each): still equal to alone.
            int[] next = [11, 22, 33, 44];
            var decode = parts.Select((p, i) => new BatchSequence(i, p.TokenCount, 1, adapterSlots[i])).ToArray();
            float[] step = Logits(llama, cache, decode, next);
            for (int i = 0; i < prompts.Length; i++)
            {
                using var alone = llama.CreateKvCache(new KvCacheOptions { MaxSequenceLength = 64, MaxSlots = 1 });
                int[] all = [.. prompts[i], next[i]];
                float[] single = Logits(llama, alone, [new BatchSequence(0, 0, all.Length, adapterSlots[i])], all);
                double worst = ReferenceCheckpoints.WorstRelative(step.AsSpan(i * Vocab, Vocab), single.AsSpan((all.Length - 1) * Vocab, Vocab));
                Assert.True(worst < 1e-4, $"decode of sequence {i} differs by {worst:E2}");
            }
        }
        finally
        {
            foreach (var a in adapters)
                a.Dispose();
        }
    }

    /// <summary>
    /// bfloat16 tables under the float32 model (the engine's default AdapterDtype): the logits equal
    /// the float64 merge of the bfloat16-rounded factors within float32 tolerance (the kernel adds
    /// no error of its own), and differ from the exact merge by no more than bfloat16 rounding
    /// allows: each factor is off by at most 2⁻⁸ relative (8 significant bits), so each
    /// projection's update by at most ~2⁻⁷ of its size; through the two layers' chained
    /// projections and softmax the logits may move by a few times that, bounded here by 2⁻⁵ of
    /// the update's own size (how far the plain model's logits are from the merge; 0.011 of it,
    /// 1.4 · 2⁻⁷, was measured).
    /// </summary>
    [Fact]
    public void BFloat16TablesEqualTheMergeOfTheRoundedFactors()
    {
        const int rank = 8;
        const double alpha = 16.0; // scaling 2: folding it into B commutes with rounding B to bfloat16
        var baseConfig = ModelConfig.Load(model.Path);
        using var adapterDir = new TempDirectory("olora-lora");
        using var mergedDir = new TempDirectory("olora-merged");
        using var roundedDir = new TempDirectory("olora-merged-bf16");
        PeftAdapterWriter.WriteRandom(baseConfig, adapterDir.Path, rank, alpha, LoraTargetModules.All, seed: 77);
        ReferenceCheckpoints.WriteMerged(model.Path, adapterDir.Path, mergedDir.Path, alpha / rank);
        ReferenceCheckpoints.WriteMerged(model.Path, adapterDir.Path, roundedDir.Path, alpha / rank, roundFactorsToBFloat16: true);

        var rng = new Random(rank);
        int[] tokens = Enumerable.Range(0, 20).Select(_ => rng.Next(0, 50257)).ToArray();
        var part = new BatchSequence(0, 0, tokens.Length, AdapterSlot: 1);
        var (withAdapter, withPrepared, plain) = AdapterLogits(adapterDir.Path, QuantizationMode.None, ScalarType.BFloat16, 16, part, tokens);
        float[] merged = MergedLogits(mergedDir.Path, part, tokens), rounded = MergedLogits(roundedDir.Path, part, tokens);

        double worstRounded = ReferenceCheckpoints.WorstRelative(withAdapter, rounded);
        Assert.True(worstRounded < 1e-4, $"bfloat16-table logits differ from the merge of the rounded factors by {worstRounded:E2}");
        Assert.True(ReferenceCheckpoints.WorstRelative(withPrepared, rounded) < 1e-4, "prepared bfloat16 adapter differs from the loaded one");
        double update = ReferenceCheckpoints.WorstRelative(plain, merged);
        double rounding = ReferenceCheckpoints.WorstRelative(withAdapter, merged);
        Assert.True(update > 1e-2, "the adapter did not change the logits");
        Assert.True(rounding <= Math.Pow(2, -5) * update, $"bfloat16 rounding moved the logits by {rounding:E2}, beyond 2^-5 of the update ({update:E2})");
    }

    /// <summary>
    /// Logits of <paramref name="part"/> with the adapter loaded into slot 1 as read and into slot 0
    /// through its prepared layout (tables of <paramref name="tableDtype"/>), and without it.
    /// </summary>
    private (float[] WithAdapter, float[] WithPrepared, float[] Plain) AdapterLogits(string adapterDir, QuantizationMode quantization, ScalarType tableDtype, int maxRank, BatchSequence part, int[] tokens)
    {
        using var llama = LlamaModel.Load(model.Path, new ModelLoadOptions { MaxSequenceLength = 32, Quantization = quantization, QuantizedCompute = QuantizedCompute.Float32 });
        using var cache = llama.CreateKvCache(new KvCacheOptions { MaxSequenceLength = 32, MaxSlots = 1 });
        using var table = new AdapterSlotTable(llama.Config, slots: 2, maxRank, tableDtype);
        using var adapter = PeftAdapter.Load(adapterDir, llama.Config);
        llama.Adapters = table;
        table.Load(1, adapter);
        var prepared = PreparedAdapter.From(adapter, tableDtype);
        table.Load(0, prepared);
        prepared.Release();
        return (Logits(llama, cache, [part with { AdapterSlot = 1 }], tokens),
            Logits(llama, cache, [part with { AdapterSlot = 0 }], tokens),
            Logits(llama, cache, [part with { AdapterSlot = -1 }], tokens));
    }

    private static float[] MergedLogits(string dir, BatchSequence part, int[] tokens)
    {
        using var llama = LlamaModel.Load(dir, new ModelLoadOptions { MaxSequenceLength = 32 });
        using var cache = llama.CreateKvCache(new KvCacheOptions { MaxSequenceLength = 32, MaxSlots = 1 });
        return Logits(llama, cache, [part with { AdapterSlot = -1 }], tokens);
    }

    [Fact]
    public void NamingAnAdapterSlotWithoutATableIsRefused()
    {
        using var llama = LlamaModel.Load(model.Path, new ModelLoadOptions { MaxSequenceLength = 8 });
        using var cache = llama.CreateKvCache(new KvCacheOptions { MaxSequenceLength = 8, MaxSlots = 1 });
        var ex = Assert.Throws<ArgumentException>(() => Logits(llama, cache, [new BatchSequence(0, 0, 2, AdapterSlot: 0)], [1, 2]));
        Assert.Contains("AdapterSlotTable", ex.Message);
    }
}
