using System.Text;
using System.Text.Json.Nodes;
using OrleansLora.Engine.Caching;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Sampling;
using OrleansLora.Engine.Tests.Support;

namespace OrleansLora.Engine.Tests.Generation;

/// <summary>Seeds, stop sequences, EOS and streaming through the whole engine on the tiny model.</summary>
public sealed class GenerationBehaviourTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>
{
    private InferenceEngine CreateEngine(string? path = null) => InferenceEngine.Create(new InferenceEngineOptions
    {
        ModelPath = path ?? model.Path,
        MaxBatchSize = 4,
        MaxSequenceLength = 256,
        KvCacheBytes = 16L * 1024 * 1024,
    });

    private static async Task<(string Text, List<int> Tokens, GenerationChunk Last)> Run(InferenceEngine engine, GenerationRequest request)
    {
        var text = new StringBuilder();
        var tokens = new List<int>();
        GenerationChunk? last = null;
        await foreach (var chunk in engine.GenerateAsync(request))
        {
            Assert.Null(last?.FinishReason); // nothing after the final chunk
            text.Append(chunk.TextDelta);
            tokens.AddRange(chunk.TokenIds);
            last = chunk;
        }
        Assert.NotNull(last);
        Assert.True(last!.IsFinal);
        return (text.ToString(), tokens, last);
    }

    [Fact]
    public async Task SameSeedSameOutputDifferentSeedDifferentOutput()
    {
        using var engine = CreateEngine();
        var sampling = new SamplingParams { Temperature = 1.0f, TopP = 0.95f, MaxNewTokens = 20, IgnoreEos = true };
        var a = await Run(engine, new GenerationRequest { Prompt = "Once upon a time", Sampling = sampling with { Seed = 42 } });
        var b = await Run(engine, new GenerationRequest { Prompt = "Once upon a time", Sampling = sampling with { Seed = 42 } });
        var c = await Run(engine, new GenerationRequest { Prompt = "Once upon a time", Sampling = sampling with { Seed = 43 } });
        Assert.Equal(a.Tokens, b.Tokens);
        Assert.NotEqual(a.Tokens, c.Tokens);
        Assert.Equal(42UL, a.Last.Usage!.Seed);
    }

    [Fact]
    public async Task StreamedTextEqualsDecodeOfAllTokensAndUsageCounts()
    {
        using var engine = CreateEngine();
        var run = await Run(engine, new GenerationRequest { Prompt = "The café served crème brûlée 🍮 and", Sampling = SamplingParams.Greedy with { MaxNewTokens = 30, IgnoreEos = true } });
        Assert.Equal(engine.Tokenizer.Decode(run.Tokens), run.Text);
        Assert.Equal(30, run.Last.Usage!.CompletionTokens);
        Assert.Equal(engine.Tokenizer.Encode("The café served crème brûlée 🍮 and", addBos: true).Count, run.Last.Usage.PromptTokens);
        Assert.Equal(FinishReason.Length, run.Last.FinishReason);
    }

    [Fact]
    public async Task StopSequenceEndsGenerationAndIsNotReturned()
    {
        using var engine = CreateEngine();
        var request = new GenerationRequest { Prompt = "Alpha beta gamma", Sampling = SamplingParams.Greedy with { MaxNewTokens = 40, IgnoreEos = true } };
        var free = await Run(engine, request);
        // A stop string from the middle of the free-running text (random weights may emit invalid UTF-8).
        Assert.DoesNotContain('\uFFFD', free.Text[(free.Text.Length / 2)..(free.Text.Length / 2 + 4)]);
        string stop = free.Text.Substring(free.Text.Length / 2, 4);
        int at = free.Text.IndexOf(stop, StringComparison.Ordinal);
        var stopped = await Run(engine, request with { Sampling = request.Sampling with { StopSequences = [stop] } });
        Assert.Equal(FinishReason.StopSequence, stopped.Last.FinishReason);
        Assert.Equal(free.Text[..at], stopped.Text);
        Assert.True(stopped.Tokens.Count < free.Tokens.Count);
    }

    [Fact]
    public async Task EosTokenEndsGeneration()
    {
        // Make a generated token (seeded sampling: same run twice) the model's EOS: generation must stop right there.
        using var dir = new TempDirectory("olora-eos");
        ModelFiles.CopyAll(model.Path, dir.Path);
        var request = new GenerationRequest { PromptTokens = [50256, 464, 3290, 318], Sampling = new SamplingParams { Temperature = 1f, Seed = 7, MaxNewTokens = 20 } };
        List<int> free;
        using (var engine = CreateEngine(dir.Path))
            free = (await Run(engine, request with { Sampling = request.Sampling with { IgnoreEos = true } })).Tokens;
        // The first token (from the 4th on) not generated before it: EOS there must stop at once.
        int at = Enumerable.Range(3, free.Count - 3).First(i => !free.Take(i).Contains(free[i]));
        int eos = free[at];
        ModelFiles.EditConfig(dir.Path, c => c["eos_token_id"] = new JsonArray(eos));

        using var eosEngine = CreateEngine(dir.Path);
        Assert.Contains(eos, eosEngine.Tokenizer.EosTokenIds);
        var run = await Run(eosEngine, request);
        Assert.Equal(FinishReason.EndOfSequence, run.Last.FinishReason);
        Assert.Equal(free.Take(at + 1), run.Tokens);
        Assert.Equal(at + 1, run.Last.Usage!.CompletionTokens);
    }

    [Fact]
    public void BFloat16ComputeStaysCloseToFloat32()
    {
        var rng = new Random(5);
        int[] tokens = Enumerable.Range(0, 24).Select(_ => rng.Next(0, 50257)).ToArray();
        float[] Logits(string dtype)
        {
            using var llama = LlamaModel.Load(model.Path, new ModelLoadOptions { Dtype = dtype, MaxSequenceLength = 32 });
            using var cache = llama.CreateKvCache(new KvCacheOptions { MaxSequenceLength = 32, MaxSlots = 1 });
            using var batch = new ForwardBatch([new BatchSequence(0, 0, tokens.Length)], tokens, 32);
            using var logits = llama.Forward(batch, cache, allPositions: true);
            return logits.data<float>().ToArray();
        }
        float[] f32 = Logits("float32"), bf16 = Logits("bfloat16");
        int vocab = 50304, agree = 0;
        double worst = 0;
        for (int p = 0; p < tokens.Length; p++)
        {
            var a = f32.AsSpan(p * vocab, vocab);
            var b = bf16.AsSpan(p * vocab, vocab);
            double scale = 0;
            foreach (float v in a)
                scale = Math.Max(scale, Math.Abs(v));
            for (int v = 0; v < vocab; v++)
                worst = Math.Max(worst, Math.Abs(a[v] - b[v]) / scale);
            agree += a.IndexOf(Max(a)) == b.IndexOf(Max(b)) ? 1 : 0;
        }
        Assert.True(worst < 0.05, $"bfloat16 logits differ from float32 by {worst:P2} of the logit range");
        Assert.True(agree >= tokens.Length * 3 / 4, $"top-1 agreed at only {agree}/{tokens.Length} positions");
        Assert.NotEqual(f32, bf16); // really computed in bfloat16
    }

    private static float Max(ReadOnlySpan<float> s)
    {
        float m = float.NegativeInfinity;
        foreach (float v in s)
            m = Math.Max(m, v);
        return m;
    }
}
