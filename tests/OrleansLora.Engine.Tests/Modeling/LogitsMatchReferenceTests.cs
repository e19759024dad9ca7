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
/// The engine's float32 logits at every prompt position match an independent float64 plain-loop
/// reference (<see cref="ReferenceLlama"/>) to 1e-4 relative, across the config features the engine
/// supports: GQA, Mistral's sliding window, untied lm_head, rope scaling, stored dtypes, shards.
/// </summary>
public sealed class LogitsMatchReferenceTests(ITestOutputHelper output) : IDisposable
{
    private const double Tolerance = 1e-4;
    private const int MaxSequenceLength = 64;

    private readonly List<TempDirectory> _dirs = [];

    public void Dispose()
    {
        foreach (var d in _dirs)
            d.Dispose();
    }

    private string WriteModel(ModelConfig config, ulong seed, long maxShardBytes = 0)
    {
        var dir = new TempDirectory("olora-ref");
        _dirs.Add(dir);
        RandomModelWriter.Write(config, dir.Path, seed, maxShardBytes);
        return dir.Path;
    }

    private static int[] Prompt(int seed, int length, int vocab)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => rng.Next(0, vocab)).ToArray();
    }

    /// <summary>Engine logits for every position, row-major [tokens, vocab].</summary>
    private static float[] EngineLogits(string dir, int[] tokens)
    {
        using var model = LlamaModel.Load(dir, new ModelLoadOptions { Dtype = "float32", MaxSequenceLength = MaxSequenceLength });
        using var cache = model.CreateKvCache(new KvCacheOptions { MaxSequenceLength = MaxSequenceLength, MaxSlots = 1, BudgetBytes = long.MaxValue });
        Assert.True(cache.TryAllocate(out int slot));
        using var batch = new ForwardBatch([new BatchSequence(slot, 0, tokens.Length)], tokens, cache.MaxSequenceLength);
        using var logits = model.Forward(batch, cache, allPositions: true);
        Assert.Equal([tokens.Length, (long)model.Config.VocabSize], logits.shape);
        return logits.data<float>().ToArray();
    }

    /// <summary>
    /// Asserts |engine - reference| &lt;= 1e-4 * max(1, |reference|) for every element and returns the
    /// worst ratio |engine - reference| / max(1, |reference|).
    /// </summary>
    private double AssertMatches(string label, float[] engine, double[][] reference)
    {
        int vocab = reference[0].Length;
        Assert.Equal(reference.Length * vocab, engine.Length);
        double worst = -1;
        int worstPos = 0, worstId = 0;
        for (int p = 0; p < reference.Length; p++)
        {
            for (int v = 0; v < vocab; v++)
            {
                double b = reference[p][v];
                double a = engine[(long)p * vocab + v];
                double err = Math.Abs(a - b) / Math.Max(1.0, Math.Abs(b));
                if (!(err <= worst) || double.IsNaN(a))
                {
                    worst = double.IsNaN(a) ? double.PositiveInfinity : err;
                    (worstPos, worstId) = (p, v);
                }
            }
        }
        string where = string.Create(CultureInfo.InvariantCulture,
            $"{label}: worst at position {worstPos}, token {worstId}: engine {engine[(long)worstPos * vocab + worstId]:R}, reference {reference[worstPos][worstId]:R}, relative error {worst:E3}");
        output.WriteLine(where);
        Assert.True(worst <= Tolerance, $"logits differ beyond {Tolerance:E0}; {where}");
        return worst;
    }

    /// <summary>Largest |a - b| at one position of two [tokens, vocab] logit sets.</summary>
    private static double MaxDifferenceAt(double[][] a, double[][] b, int position) =>
        a[position].Zip(b[position], (x, y) => Math.Abs(x - y)).Max();

    private static double MaxDifferenceAt(float[] a, float[] b, int position, int vocab)
    {
        double max = 0;
        for (int v = 0; v < vocab; v++)
            max = Math.Max(max, Math.Abs((double)a[(long)position * vocab + v] - b[(long)position * vocab + v]));
        return max;
    }

    private double CheckModel(string label, ModelConfig config, ulong seed, int promptSeed, int promptLength)
    {
        string dir = WriteModel(config, seed);
        var tokens = Prompt(promptSeed, promptLength, config.VocabSize);
        var reference = ReferenceLlama.Load(dir);
        return AssertMatches(label, EngineLogits(dir, tokens), reference.Logits(tokens));
    }

    [Fact]
    public void TinyPresetMatchesReference()
    {
        CheckModel("tiny", ModelPresets.Tiny, seed: 11, promptSeed: 101, promptLength: 37);
    }

    [Fact]
    public void MistralSlidingWindowMatchesReference()
    {
        const int window = 8;
        var windowed = ModelPresets.Tiny with { Architectures = ["MistralForCausalLM"], ModelType = "mistral", SlidingWindow = window };
        var unwindowed = windowed with { SlidingWindow = null };
        string windowedDir = WriteModel(windowed, seed: 12);
        string unwindowedDir = WriteModel(unwindowed, seed: 12);
        var tokens = Prompt(102, 30, windowed.VocabSize);

        var reference = ReferenceLlama.Load(windowedDir);
        Assert.Equal(window, reference.Config.SlidingWindow);
        var referenceFull = reference.WithConfig(reference.Config with { SlidingWindow = null });
        var expected = reference.Logits(tokens);
        var expectedFull = referenceFull.Logits(tokens);

        var engine = EngineLogits(windowedDir, tokens);
        var engineFull = EngineLogits(unwindowedDir, tokens);
        AssertMatches("mistral window 8", engine, expected);
        AssertMatches("mistral no window", engineFull, expectedFull);

        // The window must matter, or this test could not catch a window that is ignored.
        int vocab = windowed.VocabSize;
        for (int p = 0; p < tokens.Length; p++)
        {
            double engineDiff = MaxDifferenceAt(engine, engineFull, p, vocab);
            if (p < window)
            {
                Assert.True(engineDiff <= 1e-4, $"position {p} is inside the window yet logits differ by {engineDiff}");
            }
            else
            {
                Assert.True(MaxDifferenceAt(expected, expectedFull, p) > 1e-2, $"reference: the window does not change position {p}");
                Assert.True(engineDiff > 1e-2, $"engine: the window does not change position {p} (max difference {engineDiff})");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void GroupedQueryAttentionMatchesReference(int kvHeads)
    {
        var config = ModelPresets.Tiny with { NumKeyValueHeadsRaw = kvHeads };
        CheckModel($"kv heads {kvHeads}", config, seed: (ulong)(20 + kvHeads), promptSeed: 110 + kvHeads, promptLength: 25 + kvHeads);
    }

    [Fact]
    public void UntiedLmHeadMatchesReference()
    {
        var config = ModelPresets.Tiny with { TieWordEmbeddings = false };
        string dir = WriteModel(config, seed: 13);
        var tokens = Prompt(103, 29, config.VocabSize);
        var reference = ReferenceLlama.Load(dir);
        Assert.False(reference.Config.TieWordEmbeddings);
        var expected = reference.Logits(tokens);
        AssertMatches("untied lm_head", EngineLogits(dir, tokens), expected);

        // lm_head really is a separate tensor: tying it would give other logits.
        var tied = reference.WithConfig(reference.Config with { TieWordEmbeddings = true }).Logits(tokens);
        Assert.True(MaxDifferenceAt(expected, tied, 0) > 1e-2);
    }

    public static TheoryData<string, double, double, double, int> RopeScalings => new()
    {
        { "linear", 2.0, 1.0, 4.0, 8192 },
        // wavelengths 2π·10000^(2i/16): i = 0 interpolated, the rest divided by 8.
        { "llama3", 8.0, 1.0, 4.0, 16 },
        // i = 0 unchanged (2π < 64/8), i = 1, 2 interpolated, the rest divided by 8.
        { "llama3", 8.0, 1.0, 8.0, 64 },
    };

    [Theory]
    [MemberData(nameof(RopeScalings))]
    public void RopeScalingMatchesReference(string kind, double factor, double low, double high, int originalMax)
    {
        var scaling = new RopeScaling
        {
            RopeType = kind,
            Factor = factor,
            LowFreqFactor = low,
            HighFreqFactor = high,
            OriginalMaxPositionEmbeddings = originalMax,
        };
        var config = ModelPresets.Tiny with { RopeScaling = scaling };
        string dir = WriteModel(config, seed: 14);
        var tokens = Prompt(104 + originalMax, 33, config.VocabSize);
        var reference = ReferenceLlama.Load(dir);
        Assert.Equal(kind, reference.Config.RopeScaling?.Kind);
        var expected = reference.Logits(tokens);
        AssertMatches($"rope {kind} factor {factor} low {low} high {high} original {originalMax}", EngineLogits(dir, tokens), expected);

        // The scaling must change the logits, or the test could not catch it being ignored.
        var unscaled = reference.WithConfig(reference.Config with { RopeScaling = null }).Logits(tokens);
        Assert.True(MaxDifferenceAt(expected, unscaled, tokens.Length - 1) > 1e-2);
    }

    [Theory]
    [InlineData("float32")]
    [InlineData("float16")]
    public void StoredDtypeMatchesReference(string torchDtype)
    {
        var config = ModelPresets.Tiny with { TorchDtype = torchDtype };
        CheckModel($"stored {torchDtype}", config, seed: 15, promptSeed: torchDtype.Length + 120, promptLength: 31);
    }

    [Fact]
    public void ShardedCheckpointMatchesSingleFileBitwiseAndReference()
    {
        var config = ModelPresets.Tiny;
        string single = WriteModel(config, seed: 16);
        string sharded = WriteModel(config, seed: 16, maxShardBytes: 1_000_000);
        Assert.True(File.Exists(Path.Combine(sharded, "model.safetensors.index.json")));
        Assert.False(File.Exists(Path.Combine(sharded, "model.safetensors")));
        int shards = Directory.GetFiles(sharded, "model-*-of-*.safetensors").Length;
        Assert.True(shards > 1, $"expected several shards, got {shards}");

        var tokens = Prompt(105, 27, config.VocabSize);
        var fromSingle = EngineLogits(single, tokens);
        var fromShards = EngineLogits(sharded, tokens);
        Assert.Equal(fromSingle.Length, fromShards.Length);
        for (int i = 0; i < fromSingle.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(fromSingle[i]) != BitConverter.SingleToInt32Bits(fromShards[i]))
                Assert.Fail($"element {i} (position {i / config.VocabSize}): single file {fromSingle[i]:R}, shards {fromShards[i]:R}");
        }
        AssertMatches($"sharded ({shards} shards)", fromShards, ReferenceLlama.Load(sharded).Logits(tokens));
    }
}
