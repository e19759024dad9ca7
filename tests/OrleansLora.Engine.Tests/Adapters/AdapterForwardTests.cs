using System.Buffers.Binary;
using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Caching;
using OrleansLora.Engine.Checkpoints;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Tests.Support;

namespace OrleansLora.Engine.Tests.Adapters;

/// <summary>LoRA applied through the slot table and SGMV equals the merged model, and mixes per sequence in one batch.</summary>
public sealed class AdapterForwardTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>
{
    private const int Vocab = 50304;

    private static float[] ReadFloats(SafetensorsFile file, string name)
    {
        Assert.True(file.TryGet(name, out var info), name);
        byte[] bytes = file.ReadBytes(info);
        return info.Dtype switch
        {
            SafetensorsDtype.F32 => Enumerable.Range(0, bytes.Length / 4).Select(i => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4))).ToArray(),
            SafetensorsDtype.BF16 => Enumerable.Range(0, bytes.Length / 2).Select(i => BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i * 2)) << 16)).ToArray(),
            _ => throw new NotSupportedException(info.Dtype.ToString()),
        };
    }

    /// <summary>W + scale · B · A for every adapted projection, in float64 from the raw files, written as a float32 checkpoint.</summary>
    private static void WriteMerged(string baseDir, string adapterDir, string target, double scale)
    {
        ModelFiles.CopyAll(baseDir, target);
        ModelFiles.EditConfig(target, config => config["torch_dtype"] = "float32");
        using var adapter = SafetensorsFile.Open(Path.Combine(adapterDir, PeftAdapter.WeightsFileName));
        using var weights = SafetensorsFile.Open(Path.Combine(baseDir, CheckpointReader.SingleFileName));
        var entries = weights.Tensors.Select(t => new SafetensorsWriter.Entry(t.Name, SafetensorsDtype.F32, t.Shape)).ToList();
        SafetensorsWriter.Write(Path.Combine(target, CheckpointReader.SingleFileName), entries, (e, stream) =>
        {
            float[] w = ReadFloats(weights, e.Name);
            string key = "base_model.model." + e.Name[..^".weight".Length];
            if (adapter.TryGet(key + ".lora_A.weight", out var aInfo))
            {
                float[] a = ReadFloats(adapter, key + ".lora_A.weight"), b = ReadFloats(adapter, key + ".lora_B.weight");
                int r = (int)aInfo.Shape[0], inF = (int)aInfo.Shape[1], outF = (int)e.Shape[0];
                for (int o = 0; o < outF; o++)
                    for (int i = 0; i < inF; i++)
                    {
                        double delta = 0;
                        for (int k = 0; k < r; k++)
                            delta += (double)b[o * r + k] * a[k * inF + i];
                        w[o * inF + i] = (float)(w[o * inF + i] + scale * delta);
                    }
            }
            foreach (float v in w)
                stream.Write(BitConverter.GetBytes(v));
        });
    }

    private static float[] Logits(LlamaModel llama, KvCache cache, IReadOnlyList<BatchSequence> parts, int[] tokens)
    {
        using var batch = new ForwardBatch(parts, tokens, cache.MaxSequenceLength);
        using var logits = llama.Forward(batch, cache, allPositions: true);
        return logits.data<float>().ToArray();
    }

    private static double WorstRelative(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
            worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]) / Math.Max(1.0, Math.Abs(expected[i])));
        return worst;
    }

    [Theory]
    [InlineData(8, 16.0, false, "all")]
    [InlineData(3, 6.0, true, "all")]           // rsLoRA, odd rank
    [InlineData(16, 8.0, false, "q_proj,v_proj")]
    public void LogitsEqualTheMergedModel(int rank, double alpha, bool rsLora, string targets)
    {
        var baseConfig = ModelConfig.Load(model.Path);
        using var adapterDir = new TempDirectory("olora-lora");
        using var mergedDir = new TempDirectory("olora-merged");
        PeftAdapterWriter.WriteRandom(baseConfig, adapterDir.Path, rank, alpha, LoraTargetModules.Parse(targets), seed: (ulong)rank);
        if (rsLora)
            AdapterTestFiles.EditConfig(adapterDir.Path, c => c["use_rslora"] = true);
        WriteMerged(model.Path, adapterDir.Path, mergedDir.Path, rsLora ? alpha / Math.Sqrt(rank) : alpha / rank);

        var rng = new Random(rank);
        int[] tokens = Enumerable.Range(0, 20).Select(_ => rng.Next(0, 50257)).ToArray();
        var part = new[] { new BatchSequence(0, 0, tokens.Length, AdapterSlot: 1) };
        float[] withAdapter, merged, plain;
        using (var llama = LlamaModel.Load(model.Path, new ModelLoadOptions { MaxSequenceLength = 32 }))
        using (var cache = llama.CreateKvCache(new KvCacheOptions { MaxSequenceLength = 32, MaxSlots = 1 }))
        using (var table = new AdapterSlotTable(llama.Config, slots: 2, maxRank: 16, llama.Dtype))
        using (var adapter = PeftAdapter.Load(adapterDir.Path, llama.Config))
        {
            llama.Adapters = table;
            table.Load(1, adapter);
            withAdapter = Logits(llama, cache, part, tokens);
            plain = Logits(llama, cache, [part[0] with { AdapterSlot = -1 }], tokens);
        }
        using (var llama = LlamaModel.Load(mergedDir.Path, new ModelLoadOptions { MaxSequenceLength = 32 }))
        using (var cache = llama.CreateKvCache(new KvCacheOptions { MaxSequenceLength = 32, MaxSlots = 1 }))
            merged = Logits(llama, cache, [part[0] with { AdapterSlot = -1 }], tokens);

        double worst = WorstRelative(withAdapter, merged);
        Assert.True(worst < 1e-4, $"adapter logits differ from the merged model by {worst:E2}");
        Assert.True(WorstRelative(plain, merged) > 1e-2, "the adapter did not change the logits");
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
                double worst = WorstRelative(together.AsSpan(offset * Vocab, single.Length), single);
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
                double worst = WorstRelative(step.AsSpan(i * Vocab, Vocab), single.AsSpan((all.Length - 1) * Vocab, Vocab));
                Assert.True(worst < 1e-4, $"decode of sequence {i} differs by {worst:E2}");
            }
        }
        finally
        {
            foreach (var a in adapters)
                a.Dispose();
        }
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
