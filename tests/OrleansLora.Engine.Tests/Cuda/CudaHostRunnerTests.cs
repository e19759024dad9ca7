using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Cuda;
using OrleansLora.Engine.Devices;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Quantization;
using OrleansLora.Engine.Runners;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Tests.Cuda;

/// <summary>
/// The CUDA runner in host emulation, below the engine: what it reports, KV block copies, and bad input — refused with
/// an error naming it (by the runner, or by the library as a <see cref="CudaException"/>), after which the runner still
/// computes exactly what it computed before.
/// </summary>
public sealed class CudaHostRunnerTests(CudaTestModels models) : IClassFixture<CudaTestModels>
{
    private static readonly ModelRunnerOptions Options = new() { KvBlockSize = 4, KvCacheBytes = 4L << 20, MaxSequences = 4, MaxLoras = 2, MaxLoraRank = 8, MaxSequenceLength = 64 };

    private CudaModelRunner Load(string model = "llama", ModelRunnerOptions? options = null, QuantizationMode quantization = QuantizationMode.None)
    {
        CudaHostLibrary.Require();
        return CudaModelRunner.Load(models.Path(model), new ModelLoadOptions { Quantization = quantization }, options ?? Options, CudaContext.HostDevice);
    }

    private static float[] LastRow(IModelRunner runner, BatchSequence sequence, int[] tokens, int adapterSlot = -1)
    {
        using var logits = runner.Forward(new ModelBatch([sequence with { AdapterSlot = adapterSlot }], tokens, [true]));
        return logits.Row(0).ToArray();
    }

    [Fact]
    public void It_describes_itself_as_host_emulation_with_the_models_memory()
    {
        using var runner = Load(quantization: QuantizationMode.Nf4);
        Assert.True(runner.IsHostEmulation);
        Assert.Equal(CudaContext.HostDevice, runner.Device.Index);
        Assert.Contains("CUDA runner host emulation", runner.Description, StringComparison.Ordinal);
        Assert.Contains("weights nf4", runner.Description, StringComparison.Ordinal);
        var loaded = runner.ModelMemory;
        Assert.True(loaded.WeightBytes > 0 && loaded.KvBytes > 0 && loaded.AdapterBytes > 0 && loaded.ActivationBytes >= 0, $"{loaded}");
        // Tiny: 2 layers × 2 KV heads × 16 dims × 2 bytes × (K, V) = 256 bytes a position; 64 blocks of 4 positions.
        Assert.Equal(64L * 4 * 256, loaded.KvBytes);
        var device = runner.DescribeDevice();
        Assert.Equal(DeviceDescription.Cpu, device.Kind);
        Assert.Contains("CUDA runner host emulation", device.Name, StringComparison.Ordinal);
        Assert.Equal(loaded.TotalBytes, device.MemoryUsedBytes);
        Assert.True(device.MemoryTotalBytes >= device.MemoryUsedBytes);
        // A forward may grow the activation buffers; the description follows.
        LastRow(runner, new BatchSequence(0, 0, 30, BlockTable: [.. Enumerable.Range(0, 8)]), [.. Enumerable.Range(1, 30)]);
        Assert.True(runner.ModelMemory.ActivationBytes >= loaded.ActivationBytes);
        Assert.Equal(runner.ModelMemory.TotalBytes, runner.DescribeDevice().MemoryUsedBytes);
        // 64 positions in blocks of 4, 4 sequences: the cap, below what 4 MiB would buy.
        Assert.Equal(new Engine.Caching.KvBlockLayout(4, 64), runner.KvBlocks);
        Assert.Equal(64, runner.MaxSequenceLength);
        Assert.True(runner.ReturnsTokenLogits);
        Assert.False(((IModelRunner)runner).CanCopySequences);
    }

    [Fact]
    public void Sequence_handles_come_from_a_stack_and_a_double_free_is_refused()
    {
        using var runner = Load();
        Assert.Equal(4, runner.SequenceSlots);
        Assert.True(runner.TryAllocateSequence(out int a));
        Assert.True(runner.TryAllocateSequence(out int b));
        Assert.NotEqual(a, b);
        Assert.Equal(2, runner.FreeSequenceSlots);
        runner.FreeSequence(a);
        Assert.Throws<InvalidOperationException>(() => runner.FreeSequence(a));
        Assert.Throws<InvalidOperationException>(() => runner.FreeSequence(17));
    }

    [Fact]
    public void A_copied_block_serves_a_decode_as_the_original_does()
    {
        using var runner = Load();
        int[] prompt = [.. Enumerable.Range(0, 10).Select(i => 100 + 37 * i)];
        // Positions 0-9 in blocks 0, 1, 2 (the third partial); block 7 becomes a copy of block 2.
        LastRow(runner, new BatchSequence(0, 0, 10, BlockTable: [0, 1, 2]), prompt);
        runner.CopyKvBlocks([2, 7]);
        var original = LastRow(runner, new BatchSequence(0, 10, 1, BlockTable: [0, 1, 2]), [555]);
        var copy = LastRow(runner, new BatchSequence(1, 10, 1, BlockTable: [0, 1, 7]), [555]);
        Assert.Equal(original, copy);
        // Without the copy the same decode reads an empty block 9: different numbers (the check can fail).
        var empty = LastRow(runner, new BatchSequence(2, 10, 1, BlockTable: [0, 1, 9]), [555]);
        Assert.NotEqual(original, empty);

        Assert.Throws<ArgumentException>(() => runner.CopyKvBlocks([1]));
        Assert.Contains("KV block 64", Assert.Throws<ArgumentOutOfRangeException>(() => runner.CopyKvBlocks([1, 64])).Message, StringComparison.Ordinal);
        runner.CopyKvBlocks([]);
    }

    [Fact]
    public void Bad_batches_are_refused_naming_what_and_the_runner_then_computes_as_before()
    {
        using var runner = Load();
        int vocab = runner.Config.VocabSize;
        int[] prompt = [.. Enumerable.Range(0, 6).Select(i => 7 + 1000 * i)];
        var before = LastRow(runner, new BatchSequence(0, 0, 6, BlockTable: [0, 1]), prompt);

        // Caught by the library: a token id outside the vocabulary, an adapter slot outside the table, a block outside the pools.
        int[] badToken = [.. prompt[..5], vocab];
        var token = Assert.Throws<CudaException>(() => LastRow(runner, new BatchSequence(0, 0, 6, BlockTable: [2, 3]), badToken));
        Assert.Equal(CudaStatus.Argument, token.Status);
        Assert.Contains(vocab.ToString(System.Globalization.CultureInfo.InvariantCulture), token.Message, StringComparison.Ordinal);
        var slot = Assert.Throws<CudaException>(() => LastRow(runner, new BatchSequence(0, 0, 6, BlockTable: [2, 3]), prompt, adapterSlot: 2));
        Assert.Equal(CudaStatus.Argument, slot.Status);
        var block = Assert.Throws<CudaException>(() => LastRow(runner, new BatchSequence(0, 0, 6, BlockTable: [2, 64]), prompt));
        Assert.Equal(CudaStatus.Argument, block.Status);

        // Caught here: what only the managed side knows.
        Assert.Contains("no block table", Assert.Throws<ArgumentException>(() => LastRow(runner, new BatchSequence(0, 0, 6), prompt)).Message, StringComparison.Ordinal);
        Assert.Contains("holds 1 blocks", Assert.Throws<ArgumentException>(() => LastRow(runner, new BatchSequence(0, 0, 6, BlockTable: [2]), prompt)).Message, StringComparison.Ordinal);
        Assert.Contains("5 token ids", Assert.Throws<ArgumentException>(() => LastRow(runner, new BatchSequence(0, 0, 6, BlockTable: [2, 3]), prompt[..5])).Message, StringComparison.Ordinal);
        Assert.Contains("past this runner's 64", Assert.Throws<ArgumentException>(() => LastRow(runner, new BatchSequence(0, 60, 6, BlockTable: [.. Enumerable.Range(0, 17)]), prompt)).Message, StringComparison.Ordinal);
        var twice = new ModelBatch([new BatchSequence(0, 0, 6, BlockTable: [2, 3]), new BatchSequence(1, 0, 6, BlockTable: [3, 4])], [.. prompt, .. prompt], [true, true]);
        Assert.Contains("KV block 3 is written by two sequences", Assert.Throws<ArgumentException>(() => runner.Forward(twice)).Message, StringComparison.Ordinal);

        var after = LastRow(runner, new BatchSequence(0, 0, 6, BlockTable: [5, 6]), prompt);
        Assert.Equal(before, after);
    }

    [Fact]
    public void Adapters_are_refused_by_slot_rank_and_layout_and_an_evicted_slot_adds_nothing()
    {
        using var runner = Load();
        int[] prompt = [.. Enumerable.Range(0, 5).Select(i => 11 + 300 * i)];
        var baseRow = LastRow(runner, new BatchSequence(0, 0, 5, BlockTable: [0, 1]), prompt);
        var adapter = runner.PrepareAdapter(models.AdapterPath("llama", 0), new AdapterLoadOptions());
        try
        {
            Assert.Equal("slot", Assert.Throws<ArgumentOutOfRangeException>(() => runner.LoadAdapter(2, adapter)).ParamName);
            Assert.Throws<ArgumentOutOfRangeException>(() => runner.LoadAdapter(-1, adapter));
            Assert.Throws<ArgumentOutOfRangeException>(() => runner.EvictAdapter(2));
            runner.LoadAdapter(1, adapter);
        }
        finally
        {
            adapter.Release();
        }
        var withAdapter = LastRow(runner, new BatchSequence(0, 0, 5, BlockTable: [2, 3]), prompt, adapterSlot: 1);
        Assert.NotEqual(baseRow, withAdapter);
        runner.EvictAdapter(1);
        Assert.Equal(baseRow, LastRow(runner, new BatchSequence(0, 0, 5, BlockTable: [4, 5]), prompt, adapterSlot: 1));

        // A float32 layout (what a CPU runner with float32 tables prepares) would be read as the wrong bytes.
        var float32 = PreparedAdapter.Load(models.AdapterPath("llama", 0), runner.Config, ScalarType.Float32);
        try
        {
            Assert.Contains("was not prepared by this runner", Assert.Throws<ArgumentException>(() => runner.LoadAdapter(0, float32)).Message, StringComparison.Ordinal);
        }
        finally
        {
            float32.Release();
        }

        using var small = Load(options: Options with { MaxLoraRank = 4 });
        var rank8 = small.PrepareAdapter(models.AdapterPath("llama", 0), new AdapterLoadOptions());
        try
        {
            Assert.Contains("rank 8", Assert.Throws<ArgumentException>(() => small.LoadAdapter(0, rank8)).Message, StringComparison.Ordinal);
        }
        finally
        {
            rank8.Release();
        }

        using var baseOnly = Load(options: Options with { MaxLoras = 0 });
        Assert.Throws<InvalidOperationException>(() => baseOnly.EvictAdapter(0));
    }
}
