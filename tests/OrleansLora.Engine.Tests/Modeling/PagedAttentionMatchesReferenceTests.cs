using System.Globalization;
using OrleansLora.Engine.Caching;
using OrleansLora.Engine.ModelInit;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Tests.Reference;
using OrleansLora.Engine.Tests.Support;
using Xunit.Abstractions;

namespace OrleansLora.Engine.Tests.Modeling;

/// <summary>
/// Attention through a paged KV cache (the native kernels, block tables) gives the float64 reference's
/// logits at every position to 1e-4 relative, however the tokens are cut: chunks that start and end
/// inside blocks, single-token decode steps, blocks scattered over the pool in no order, and a second
/// sequence that reads the first one's full blocks as its prefix and computes only the rest.
/// </summary>
public sealed class PagedAttentionMatchesReferenceTests(ITestOutputHelper output) : IDisposable
{
    private const double Tolerance = 1e-4;
    private const int MaxSequenceLength = 64;
    private const int BlockSize = 5; // not a power of two, not a divisor of the chunk sizes

    private readonly List<TempDirectory> _dirs = [];

    public void Dispose()
    {
        foreach (var d in _dirs)
            d.Dispose();
    }

    private string WriteModel(ModelConfig config, ulong seed)
    {
        var dir = new TempDirectory("olora-paged");
        _dirs.Add(dir);
        RandomModelWriter.Write(config, dir.Path, seed);
        return dir.Path;
    }

    private static int[] Prompt(int seed, int length, int vocab)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => rng.Next(0, vocab)).ToArray();
    }

    /// <summary>Blocks of the pool in a scrambled order, so a table is never a consecutive run.</summary>
    private static int[] ScrambledBlocks(int count, int seed) =>
        Enumerable.Range(0, count).OrderBy(b => ((long)b * 7919 + seed) % count).ThenBy(b => b).ToArray();

    /// <summary>
    /// Runs <paramref name="tokens"/>[<paramref name="from"/>..] through the paged cache in the given
    /// chunk sizes (then one token at a time), with <paramref name="table"/> as the block table, and
    /// returns the logits of every computed position, row-major.
    /// </summary>
    private static float[] PagedLogits(LlamaModel model, PagedKvCache cache, int[] table, int[] tokens, int from, int[] chunks)
    {
        var logits = new List<float>();
        int position = from;
        int next = 0;
        while (position < tokens.Length)
        {
            int take = Math.Min(next < chunks.Length ? chunks[next++] : 1, tokens.Length - position);
            using var batch = new ForwardBatch([new BatchSequence(0, position, take, -1, table)], tokens.AsSpan(position, take), cache.MaxSequenceLength);
            using var rows = model.Forward(batch, cache, allPositions: true);
            logits.AddRange(rows.data<float>().ToArray());
            position += take;
        }
        return [.. logits];
    }

    private double AssertMatches(string label, float[] engine, double[][] reference, int from)
    {
        int vocab = reference[0].Length;
        Assert.Equal((reference.Length - from) * vocab, engine.Length);
        double worst = 0;
        int worstPos = from;
        for (int p = from; p < reference.Length; p++)
        {
            for (int v = 0; v < vocab; v++)
            {
                double b = reference[p][v];
                double a = engine[(long)(p - from) * vocab + v];
                double err = double.IsNaN(a) ? double.PositiveInfinity : Math.Abs(a - b) / Math.Max(1.0, Math.Abs(b));
                if (err > worst)
                    (worst, worstPos) = (err, p);
            }
        }
        string where = string.Create(CultureInfo.InvariantCulture, $"{label}: worst relative error {worst:E3} at position {worstPos}");
        output.WriteLine(where);
        Assert.True(worst <= Tolerance, $"paged logits differ beyond {Tolerance:E0}; {where}");
        return worst;
    }

    private void CheckChunked(string label, ModelConfig config, ulong seed, int promptSeed, int length, string dtype = "float32")
    {
        string dir = WriteModel(config, seed);
        var tokens = Prompt(promptSeed, length, config.VocabSize);
        var reference = ReferenceLlama.Load(dir).Logits(tokens);
        using var model = LlamaModel.Load(dir, new ModelLoadOptions { Dtype = dtype, MaxSequenceLength = MaxSequenceLength });
        using var cache = model.CreatePagedKvCache(long.MaxValue, BlockSize, MaxSequenceLength, maxBlocks: 40);
        var table = ScrambledBlocks(cache.BlockCount, (int)seed);
        // A 7-token chunk (ends inside block 2), a 1-token one, a 9-token one (spans three blocks), then decode.
        AssertMatches(label, PagedLogits(model, cache, table, tokens, 0, [7, 1, 9]), reference, 0);
    }

    [Fact]
    public void TinyPresetMatchesReferenceAcrossBlockBoundaries() =>
        CheckChunked("tiny", ModelPresets.Tiny, seed: 11, promptSeed: 101, length: 37);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void GroupedQueryAttentionMatchesReference(int kvHeads) =>
        CheckChunked($"kv heads {kvHeads}", ModelPresets.Tiny with { NumKeyValueHeadsRaw = kvHeads }, seed: (ulong)(20 + kvHeads), promptSeed: 110 + kvHeads, length: 25 + kvHeads);

    [Fact]
    public void MistralSlidingWindowMatchesReference()
    {
        // Window 8 over blocks of 5: the window starts inside a block at every position past 8.
        var windowed = ModelPresets.Tiny with { Architectures = ["MistralForCausalLM"], ModelType = "mistral", SlidingWindow = 8 };
        CheckChunked("mistral window 8", windowed, seed: 12, promptSeed: 102, length: 30);
    }

    [Fact]
    public void Decode_steps_on_the_models_buffers_match_reference()
    {
        // Prefill 8 tokens, then one token a step: each step returns only its last-token logits, through the model's
        // preallocated decode buffers (single-row batches with no other positions asked for).
        var config = ModelPresets.Tiny;
        string dir = WriteModel(config, seed: 17);
        var tokens = Prompt(117, 23, config.VocabSize);
        var reference = ReferenceLlama.Load(dir).Logits(tokens);
        using var model = LlamaModel.Load(dir, new ModelLoadOptions { Dtype = "float32", MaxSequenceLength = MaxSequenceLength });
        using var cache = model.CreatePagedKvCache(long.MaxValue, BlockSize, MaxSequenceLength, maxBlocks: 40);
        var table = ScrambledBlocks(cache.BlockCount, 17);
        var logits = new List<float>();
        using (var prefill = new ForwardBatch([new BatchSequence(0, 0, 8, -1, table)], tokens.AsSpan(0, 8), cache.MaxSequenceLength))
        using (var rows = model.Forward(prefill, cache))
            logits.AddRange(rows.data<float>().ToArray());
        for (int p = 8; p < tokens.Length; p++)
        {
            model.DecodeWorkspace.Fill(float.NaN);
            using var step = new ForwardBatch([new BatchSequence(0, p, 1, -1, table)], tokens.AsSpan(p, 1), cache.MaxSequenceLength);
            using var row = model.Forward(step, cache);
            logits.AddRange(row.data<float>().ToArray());
        }
        Assert.Equal(tokens.Length - 8, model.DecodeBufferSteps);
        Assert.Equal(tokens.Length - 8, model.NativeDecodeSteps); // all layers of each step in one native call
        AssertMatches("decode on the buffers", [.. logits], reference, 7);
    }

    [Fact]
    public void A_second_sequence_reading_the_first_ones_blocks_as_its_prefix_matches_reference()
    {
        var config = ModelPresets.Tiny;
        string dir = WriteModel(config, seed: 15);
        var prefix = Prompt(105, 20, config.VocabSize); // four full blocks
        var first = prefix.Concat(Prompt(106, 6, config.VocabSize)).ToArray();
        var second = prefix.Concat(Prompt(107, 9, config.VocabSize)).ToArray();
        var reference = ReferenceLlama.Load(dir);
        using var model = LlamaModel.Load(dir, new ModelLoadOptions { Dtype = "float32", MaxSequenceLength = MaxSequenceLength });
        using var cache = model.CreatePagedKvCache(long.MaxValue, BlockSize, MaxSequenceLength, maxBlocks: 40);
        var blocks = ScrambledBlocks(cache.BlockCount, 3);
        int[] firstTable = blocks[..6];
        // The second sequence shares the first four blocks, then has its own.
        int[] secondTable = [.. blocks[..4], .. blocks[6..9]];

        AssertMatches("first", PagedLogits(model, cache, firstTable, first, 0, [first.Length]), reference.Logits(first), 0);
        // Only positions 20.. are computed: they read positions 0..19 from the shared blocks.
        var reused = PagedLogits(model, cache, secondTable, second, 20, [4]);
        AssertMatches("second, prefix reused", reused, reference.Logits(second), 20);

        // The shared blocks matter: with an empty prefix (fresh zero blocks) the logits differ.
        using var empty = model.CreatePagedKvCache(long.MaxValue, BlockSize, MaxSequenceLength, maxBlocks: 40);
        var wrong = PagedLogits(model, empty, secondTable, second, 20, [4]);
        Assert.True(wrong.Zip(reused, (a, b) => Math.Abs(a - b)).Max() > 1e-2, "reading zero blocks instead of the prefix changed nothing");
    }
}
