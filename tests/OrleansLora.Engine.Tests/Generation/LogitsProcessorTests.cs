using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Sampling;
using OrleansLora.Engine.Tests.Support;

namespace OrleansLora.Engine.Tests.Generation;

/// <summary>The per-request logits hook (constrained decoding plugs in here) through the whole engine.</summary>
public sealed class LogitsProcessorTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>
{
    /// <summary>Allows exactly one token per step, from a script; records what it was shown and told.</summary>
    private sealed class ScriptedProcessor(IReadOnlyList<int> script) : ILogitsProcessor
    {
        public List<int> Accepted { get; } = [];
        public int Calls { get; private set; }

        public void Process(Span<float> logits)
        {
            int allowed = script[Accepted.Count];
            Calls++;
            for (int i = 0; i < logits.Length; i++)
            {
                if (i != allowed)
                    logits[i] = float.NegativeInfinity;
            }
        }

        public void Accept(int tokenId) => Accepted.Add(tokenId);
    }

    private InferenceEngine CreateEngine() => InferenceEngine.Create(new InferenceEngineOptions
    {
        ModelPath = model.Path,
        MaxBatchSize = 4,
        MaxSequenceLength = 128,
        KvCacheBytes = 8L * 1024 * 1024,
    });

    private static async Task<(List<int> Tokens, GenerationChunk Last)> Run(InferenceEngine engine, GenerationRequest request)
    {
        var tokens = new List<int>();
        GenerationChunk? last = null;
        await foreach (var chunk in engine.GenerateAsync(request))
        {
            tokens.AddRange(chunk.TokenIds);
            last = chunk;
        }
        return (tokens, last!);
    }

    [Fact]
    public async Task The_processor_decides_every_token_and_sees_each_one_accepted()
    {
        using var engine = CreateEngine();
        int[] script = [464, 3290, 318, 257, 3290, 11];
        // Sampled, not greedy: a mask must hold whatever the temperature draws.
        var processor = new ScriptedProcessor(script);
        var run = await Run(engine, new GenerationRequest
        {
            PromptTokens = [50256, 40, 588],
            Sampling = new SamplingParams { Temperature = 1.5f, Seed = 3, MaxNewTokens = script.Length, IgnoreEos = true },
            LogitsProcessor = processor,
        });
        Assert.Equal(script, run.Tokens);
        Assert.Equal(script, processor.Accepted);
        Assert.Equal(script.Length, processor.Calls);
        Assert.Equal(FinishReason.Length, run.Last.FinishReason);
    }

    [Fact]
    public async Task An_eos_ends_with_end_of_sequence_even_when_stop_strings_were_given()
    {
        using var engine = CreateEngine();
        int eos = engine.Tokenizer.EosTokenIds.First();
        var processor = new ScriptedProcessor([464, 3290, eos]);
        var run = await Run(engine, new GenerationRequest
        {
            PromptTokens = [50256, 40, 588],
            Sampling = SamplingParams.Greedy with { MaxNewTokens = 10, StopSequences = ["never-in-this-text"] },
            LogitsProcessor = processor,
        });
        Assert.Equal([464, 3290, eos], run.Tokens);
        Assert.Equal(FinishReason.EndOfSequence, run.Last.FinishReason);
    }

    [Fact]
    public async Task A_processor_that_masks_everything_fails_its_own_sequence_only()
    {
        using var engine = CreateEngine();
        var blocked = new ScriptedProcessor([-1]); // allows no token at all
        var request = new GenerationRequest { PromptTokens = [50256, 40, 588], Sampling = SamplingParams.Greedy with { MaxNewTokens = 4, IgnoreEos = true } };
        var failing = Run(engine, request with { LogitsProcessor = blocked });
        var healthy = Run(engine, request);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
        Assert.Contains("-inf", error.Message);
        Assert.Equal(4, (await healthy).Tokens.Count);
    }
}
