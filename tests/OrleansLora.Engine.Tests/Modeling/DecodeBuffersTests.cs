using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Caching;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Quantization;
using OrleansLora.Engine.Tests.Support;
using TorchSharp;

namespace OrleansLora.Engine.Tests.Modeling;

/// <summary>
/// A decode step on the model's preallocated buffers runs the same kernels in the same order as the general path, so
/// its logits are the general path's bit for bit (with LoRA on some rows, every quantization, batch sizes that grow and
/// shrink the buffers, and the buffers poisoned with NaN before each step), and it allocates one tensor: its logits.
/// The float64 reference of decode on these buffers is in <see cref="PagedAttentionMatchesReferenceTests"/>.
/// </summary>
public sealed class DecodeBuffersTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>
{
    private const int MaxLength = 64;
    private const int BlockSize = 5;

    private sealed class Sequences(int count, int seed)
    {
        private readonly Random _rng = new(seed);
        public readonly List<int>[] Tokens = [.. Enumerable.Range(0, count).Select(i => new List<int>())];
        public int NextToken() => _rng.Next(0, 50257);
    }

    private static int[] Table(int sequence) => [.. Enumerable.Range(0, 12).Select(b => (b * 3 + sequence) % 36 + sequence % 2 * 36)];

    private static float[] Step(LlamaModel llama, PagedKvCache cache, IReadOnlyList<BatchSequence> parts, int[] tokens)
    {
        using var batch = new ForwardBatch(parts, tokens, cache.MaxSequenceLength);
        using var logits = llama.Forward(batch, cache);
        return logits.data<float>().ToArray();
    }

    /// <summary>Finite logits in <paramref name="actual"/>, with the same bits as <paramref name="expected"/>'s.</summary>
    private static void AssertSameBits(float[] actual, string actualPath, float[] expected, string expectedPath, int step, int vocab)
    {
        Assert.All(actual, v => Assert.True(float.IsFinite(v), $"a logit {actualPath} is not finite"));
        Assert.Equal(expected.Length, actual.Length);
        for (int j = 0; j < expected.Length; j++)
        {
            if (BitConverter.SingleToInt32Bits(expected[j]) != BitConverter.SingleToInt32Bits(actual[j]))
                Assert.Fail($"step {step}, row {j / vocab}, token {j % vocab}: {actual[j]} {actualPath}, {expected[j]} {expectedPath}");
        }
    }

    [Theory]
    [InlineData(QuantizationMode.None, false)]
    [InlineData(QuantizationMode.Nf4, false)]
    [InlineData(QuantizationMode.Int8, false)]
    [InlineData(QuantizationMode.Nf4, true)]
    public void Decode_steps_with_lora_rows_give_the_same_logits_in_one_native_call_layer_by_layer_and_on_the_general_path(
        QuantizationMode quantization, bool bf16Tables)
    {
        var config = ModelConfig.Load(model.Path);
        using var adapters = new TempDirectory("olora-decode-buffers");
        using var llama = LlamaModel.Load(model.Path, new ModelLoadOptions { MaxSequenceLength = MaxLength, Quantization = quantization });
        using var table = new AdapterSlotTable(llama.Config, slots: 3, maxRank: 16, bf16Tables ? torch.ScalarType.BFloat16 : llama.Dtype);
        llama.Adapters = table;
        for (int slot = 1; slot <= 2; slot++)
        {
            string dir = Path.Combine(adapters.Path, $"a{slot}");
            // Adapter 2 leaves the MLP alone: its rows skip those projections while adapter 1's rows beside them do not.
            IReadOnlyList<string> targets = slot == 1 ? LoraTargetModules.All : [LoraTargetModules.QProj, LoraTargetModules.VProj, LoraTargetModules.OProj];
            PeftAdapterWriter.WriteRandom(config, dir, rank: 4 * slot, alpha: 16, targets, seed: (ulong)(40 + slot));
            table.Load(slot, PeftAdapter.Load(dir, config));
        }
        // One cache of 72 blocks per path; each sequence's blocks are scattered over its cache.
        using var native = llama.CreatePagedKvCache(long.MaxValue, BlockSize, MaxLength, maxBlocks: 72);
        using var perLayer = llama.CreatePagedKvCache(long.MaxValue, BlockSize, MaxLength, maxBlocks: 72);
        using var general = llama.CreatePagedKvCache(long.MaxValue, BlockSize, MaxLength, maxBlocks: 72);
        int[] adapterSlots = [1, -1, 2, 1, -1];
        int[] promptLengths = [7, 12, 3, 9, 4];
        var seqs = new Sequences(adapterSlots.Length, seed: 9);
        for (int i = 0; i < adapterSlots.Length; i++)
        {
            var prompt = Enumerable.Range(0, promptLengths[i]).Select(_ => seqs.NextToken()).ToArray();
            var part = new BatchSequence(i, 0, prompt.Length, adapterSlots[i], Table(i));
            foreach (var cache in new[] { native, perLayer, general })
                Step(llama, cache, [part], prompt);
            seqs.Tokens[i].AddRange(prompt);
        }

        // Batches of 3, then 1, 5 (the buffers grow) and 2 sequences; 13 steps cross block boundaries for every sequence.
        int[][] members = [[0, 1, 2], [0, 1, 2], [3], [0, 1, 2, 3, 4], [4, 1], [0, 1, 2, 3, 4], [2, 3], [0, 1, 2, 3, 4], [0, 1, 2],
            [1], [3, 4], [0, 1, 2, 3, 4], [0, 2]];
        for (int n = 0; n < members.Length; n++)
        {
            var step = members[n];
            var parts = step.Select(i => new BatchSequence(i, seqs.Tokens[i].Count, 1, adapterSlots[i], Table(i))).ToArray();
            var tokens = step.Select(_ => seqs.NextToken()).ToArray();
            float[] Run(PagedKvCache cache, bool buffers, bool nativeLayers)
            {
                llama.DecodeWorkspace.For(parts.Length); // grown before the poison, so a new row count's storage is poisoned too
                llama.DecodeWorkspace.Fill(float.NaN);
                llama.DecodeBuffersEnabled = buffers;
                llama.NativeDecodeEnabled = nativeLayers;
                return Step(llama, cache, parts, tokens);
            }
            long nativeSteps = llama.NativeDecodeSteps, bufferSteps = llama.DecodeBufferSteps;
            float[] fromNative = Run(native, buffers: true, nativeLayers: true);
            Assert.Equal(nativeSteps + 1, llama.NativeDecodeSteps);
            float[] fromPerLayer = Run(perLayer, buffers: true, nativeLayers: false);
            Assert.Equal(bufferSteps + 2, llama.DecodeBufferSteps);
            float[] fromGeneral = Run(general, buffers: false, nativeLayers: true);
            Assert.Equal(nativeSteps + 1, llama.NativeDecodeSteps);
            AssertSameBits(fromNative, "in one native call", fromPerLayer, "layer by layer", n, config.VocabSize);
            AssertSameBits(fromNative, "in one native call", fromGeneral, "on the general path", n, config.VocabSize);
            for (int r = 0; r < step.Length; r++)
                seqs.Tokens[step[r]].Add(tokens[r]);
        }
    }

    [Theory]
    [InlineData(QuantizationMode.None, 1)]
    [InlineData(QuantizationMode.Nf4, 1)]
    [InlineData(QuantizationMode.Int8, 1)]
    [InlineData(QuantizationMode.Nf4, 0)]
    public void Base_model_steps_in_one_native_call_give_the_per_layer_and_general_paths_logits_bit_for_bit(QuantizationMode quantization, int variant)
    {
        // Three caches, one per path, each sequence's blocks scattered; batches of 1 to 4 sequences crossing block
        // boundaries; the buffers poisoned before every step. Variant 0 decodes one sequence alone (the benchmark's shape).
        using var llama = LlamaModel.Load(model.Path, new ModelLoadOptions { MaxSequenceLength = MaxLength, Quantization = quantization });
        var vocab = llama.Config.VocabSize;
        using var native = llama.CreatePagedKvCache(long.MaxValue, BlockSize, MaxLength, maxBlocks: 72);
        using var perLayer = llama.CreatePagedKvCache(long.MaxValue, BlockSize, MaxLength, maxBlocks: 72);
        using var general = llama.CreatePagedKvCache(long.MaxValue, BlockSize, MaxLength, maxBlocks: 72);
        int[] promptLengths = [6, 11, 2, 9];
        var seqs = new Sequences(promptLengths.Length, seed: 17 + variant);
        for (int i = 0; i < promptLengths.Length; i++)
        {
            var prompt = Enumerable.Range(0, promptLengths[i]).Select(_ => seqs.NextToken()).ToArray();
            var part = new BatchSequence(i, 0, prompt.Length, -1, Table(i));
            foreach (var cache in new[] { native, perLayer, general })
                Step(llama, cache, [part], prompt);
            seqs.Tokens[i].AddRange(prompt);
        }
        int[][] members = variant == 0
            ? [.. Enumerable.Repeat(new[] { 1 }, 12)]
            : [[0], [0, 1, 2, 3], [2, 3], [1], [0, 1, 2, 3], [3, 0, 2], [0, 1, 2, 3], [1, 2], [0], [0, 1, 2, 3], [2, 0], [1, 3]];
        for (int n = 0; n < members.Length; n++)
        {
            var step = members[n];
            var parts = step.Select(i => new BatchSequence(i, seqs.Tokens[i].Count, 1, -1, Table(i))).ToArray();
            var tokens = step.Select(_ => seqs.NextToken()).ToArray();
            float[] Run(PagedKvCache cache, bool buffers, bool nativeLayers)
            {
                llama.DecodeWorkspace.For(parts.Length);
                llama.DecodeWorkspace.Fill(float.NaN);
                llama.DecodeBuffersEnabled = buffers;
                llama.NativeDecodeEnabled = nativeLayers;
                return Step(llama, cache, parts, tokens);
            }
            long nativeSteps = llama.NativeDecodeSteps;
            float[] fromNative = Run(native, buffers: true, nativeLayers: true);
            Assert.Equal(nativeSteps + 1, llama.NativeDecodeSteps);
            long bufferSteps = llama.DecodeBufferSteps;
            float[] fromPerLayer = Run(perLayer, buffers: true, nativeLayers: false);
            Assert.Equal(bufferSteps + 1, llama.DecodeBufferSteps);
            float[] fromGeneral = Run(general, buffers: false, nativeLayers: true);
            Assert.Equal(nativeSteps + 1, llama.NativeDecodeSteps);
            AssertSameBits(fromNative, "in one native call", fromPerLayer, "layer by layer", n, vocab);
            AssertSameBits(fromNative, "in one native call", fromGeneral, "on the general path", n, vocab);
            for (int r = 0; r < step.Length; r++)
                seqs.Tokens[step[r]].Add(tokens[r]);
        }
    }

    [Fact]
    public void A_slot_table_made_for_another_model_is_refused_before_the_native_step_reads_it()
    {
        // The native step reads the tables with this model's widths: a table of wider MLP rows would be read out of
        // bounds, so it is refused, naming why, and the base rows beside it go on working.
        using var llama = LlamaModel.Load(model.Path, new ModelLoadOptions { MaxSequenceLength = MaxLength });
        var other = llama.Config with { IntermediateSize = llama.Config.IntermediateSize * 2 };
        using var table = new AdapterSlotTable(other, slots: 2, maxRank: 4, llama.Dtype);
        llama.Adapters = table;
        using var cache = llama.CreatePagedKvCache(long.MaxValue, BlockSize, MaxLength, maxBlocks: 72);
        int[] prompt = [5, 6, 7];
        Step(llama, cache, [new BatchSequence(0, 0, prompt.Length, -1, Table(0))], prompt);
        var onAdapter = new BatchSequence(0, prompt.Length, 1, AdapterSlot: 1, Table(0));
        var refused = Assert.Throws<ArgumentException>(() => Step(llama, cache, [onAdapter], [8]));
        Assert.Contains("made for another model", refused.Message, StringComparison.Ordinal);
        long nativeSteps = llama.NativeDecodeSteps;
        float[] logits = Step(llama, cache, [onAdapter with { AdapterSlot = -1 }], [8]);
        Assert.Equal(nativeSteps + 1, llama.NativeDecodeSteps);
        Assert.All(logits, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void A_decode_step_on_the_buffers_allocates_only_its_logits()
    {
        var config = ModelConfig.Load(model.Path);
        using var adapter = new TempDirectory("olora-decode-alloc");
        using var llama = LlamaModel.Load(model.Path, new ModelLoadOptions { MaxSequenceLength = MaxLength, Quantization = QuantizationMode.Nf4 });
        using var table = new AdapterSlotTable(llama.Config, slots: 2, maxRank: 8, llama.Dtype);
        llama.Adapters = table;
        PeftAdapterWriter.WriteRandom(config, adapter.Path, rank: 8, alpha: 16, LoraTargetModules.All, seed: 7);
        table.Load(1, PeftAdapter.Load(adapter.Path, config));
        using var cache = llama.CreatePagedKvCache(long.MaxValue, BlockSize, MaxLength, maxBlocks: 72);
        int[][] prompts = [[1, 2, 3, 4, 5, 6], [7, 8, 9]];
        int[] adapterSlots = [1, -1]; // LoRA on one row, the base on the other
        for (int i = 0; i < prompts.Length; i++)
            Step(llama, cache, [new BatchSequence(i, 0, prompts[i].Length, adapterSlots[i], Table(i))], prompts[i]);

        int position = 0;
        long TensorsMadeByAStep()
        {
            var stats = DisposeScopeManager.Statistics.TensorStatistics;
            long before = stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount;
            var parts = prompts.Select((p, i) => new BatchSequence(i, p.Length + position, 1, adapterSlots[i], Table(i))).ToArray();
            position++;
            using (var batch = new ForwardBatch(parts, [10 + position, 20 + position], MaxLength))
            using (llama.Forward(batch, cache))
            {
            }
            return stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount - before;
        }

        TensorsMadeByAStep(); // the first step of a batch size makes the buffers and their views
        Assert.Equal(1, TensorsMadeByAStep());
        Assert.Equal(1, TensorsMadeByAStep());
        // Both rows on the base: the layers run in one native call, which allocates nothing either.
        adapterSlots[0] = -1;
        long nativeSteps = llama.NativeDecodeSteps;
        Assert.Equal(1, TensorsMadeByAStep());
        Assert.Equal(nativeSteps + 1, llama.NativeDecodeSteps);
        // The counter sees the general path's temporaries: dozens a step.
        llama.DecodeBuffersEnabled = false;
        long general = TensorsMadeByAStep();
        Assert.True(general > 4 * llama.Config.NumHiddenLayers, $"the general path made only {general} tensors");
    }

    [Fact]
    public void Concurrent_forwards_on_one_model_each_get_their_own_logits()
    {
        // The engine runs a model on one thread, but nothing stops a tool from sharing one: a forward that finds the
        // buffers in use takes the general path, so neither overwrites the other's rows.
        using var llama = LlamaModel.Load(model.Path, new ModelLoadOptions { MaxSequenceLength = MaxLength });
        const int Steps = 24;
        float[][] Run(PagedKvCache cache, int seed)
        {
            var rng = new Random(seed);
            var prompt = Enumerable.Range(0, 6).Select(_ => rng.Next(0, 50257)).ToArray();
            Step(llama, cache, [new BatchSequence(0, 0, prompt.Length, -1, Table(0))], prompt);
            var rows = new float[Steps][];
            for (int p = 0; p < Steps; p++)
                rows[p] = Step(llama, cache, [new BatchSequence(0, prompt.Length + p, 1, -1, Table(0))], [rng.Next(0, 50257)]);
            return rows;
        }
        float[][][] alone = [.. new[] { 1, 2 }.Select(seed =>
        {
            using var cache = llama.CreatePagedKvCache(long.MaxValue, BlockSize, MaxLength, maxBlocks: 72);
            return Run(cache, seed);
        })];
        long onBuffers = llama.DecodeBufferSteps;
        for (int round = 0; round < 3; round++)
        {
            var together = new float[2][][];
            var failures = new Exception?[2];
            using var start = new Barrier(2);
            // Dedicated threads, so both run at once whatever the thread pool is doing.
            var threads = Enumerable.Range(0, 2).Select(i => new Thread(() =>
            {
                try
                {
                    using var cache = llama.CreatePagedKvCache(long.MaxValue, BlockSize, MaxLength, maxBlocks: 72);
                    start.SignalAndWait();
                    together[i] = Run(cache, i + 1);
                }
                catch (Exception e)
                {
                    failures[i] = e;
                }
            })).ToArray();
            foreach (var t in threads)
                t.Start();
            foreach (var t in threads)
                t.Join();
            Assert.All(failures, Assert.Null);
            for (int i = 0; i < 2; i++)
                for (int p = 0; p < Steps; p++)
                    Assert.True(alone[i][p].AsSpan().SequenceEqual(together[i][p]), $"round {round}, thread {i}, step {p}: logits changed when run beside another forward");
        }
        Assert.True(llama.DecodeBufferSteps > onBuffers, "no step ran on the buffers");
    }

    [Fact]
    public void Bad_decode_steps_are_refused_naming_what_and_the_next_step_matches_the_general_path()
    {
        using var llama = LlamaModel.Load(model.Path, new ModelLoadOptions { MaxSequenceLength = MaxLength });
        using var cache = llama.CreatePagedKvCache(long.MaxValue, BlockSize, MaxLength, maxBlocks: 72);
        using var general = llama.CreatePagedKvCache(long.MaxValue, BlockSize, MaxLength, maxBlocks: 72);
        int[] prompt = [5, 6, 7, 8];
        foreach (var c in new[] { cache, general })
            Step(llama, c, [new BatchSequence(0, 0, prompt.Length, -1, Table(0))], prompt);

        // A token id outside the vocabulary, refused before any row is read.
        var next = new BatchSequence(0, prompt.Length, 1, -1, Table(0));
        var badId = Assert.Throws<ArgumentOutOfRangeException>(() => Step(llama, cache, [next], [llama.Config.VocabSize + 3]));
        Assert.Contains($"token id {llama.Config.VocabSize + 3}", badId.Message, StringComparison.Ordinal);
        // A position past the cache (the batch's own limit allows it), refused before layer 0.
        var far = new BatchSequence(0, MaxLength, 1, -1, [.. Table(0), .. Table(2)]);
        using (var farBatch = new ForwardBatch([far], [9], MaxLength + 1))
            Assert.Contains($"reaches position {MaxLength + 1}", Assert.Throws<ArgumentException>(() => llama.Forward(farBatch, cache)).Message, StringComparison.Ordinal);

        // The refused steps left the buffers and the cache usable: the next step equals the general path's.
        float[] onBuffers = Step(llama, cache, [next], [9]);
        llama.DecodeBuffersEnabled = false;
        float[] onGeneral = Step(llama, general, [next], [9]);
        Assert.True(onBuffers.AsSpan().SequenceEqual(onGeneral), "the step after the refused ones differs from the general path");
    }

    [Fact]
    public async Task A_model_disposed_twice_does_not_wait_on_its_own_buffers()
    {
        // Dispose waits for a forward on the buffers to finish; a second Dispose (a runner and its owner both
        // disposing) must not wait for the first one's claim.
        var llama = LlamaModel.Load(model.Path, new ModelLoadOptions { MaxSequenceLength = MaxLength });
        var twice = Task.Run(() =>
        {
            llama.Dispose();
            llama.Dispose();
        });
        Assert.Same(twice, await Task.WhenAny(twice, Task.Delay(TimeSpan.FromSeconds(30))));
    }
}
