using System.Text.Json;
using Json.Schema;
using OrleansLora.Engine.Constraints;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Sampling;
using OrleansLora.Engine.Tests.Support;

namespace OrleansLora.Engine.Tests.Constraints;

/// <summary>Constrained and free sequences share batches through the engine's per-request logits hook.</summary>
public sealed class ConstrainedBatchTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>
{
    private const int MaxTokens = 48;

    private InferenceEngine CreateEngine() => InferenceEngine.Create(new InferenceEngineOptions
    {
        ModelPath = model.Path,
        MaxBatchSize = 8,
        MaxSequenceLength = 128,
        KvCacheBytes = 16L * 1024 * 1024,
    });

    private static GenerationRequest Request(InferenceEngine engine, int index)
    {
        bool constrained = index % 2 == 0;
        var sampling = new SamplingParams { Temperature = 1f, Seed = (ulong)(100 + index), MaxNewTokens = MaxTokens };
        return new GenerationRequest
        {
            PromptTokens = [50256, 40 + index, 588],
            Sampling = sampling,
            LogitsProcessor = constrained
                ? TokenGrammarCache.For(engine.Tokenizer).CreateProcessor(GrammarSpec.JsonSchema(Schema), MaxTokens)
                : null,
        };
    }

    private const string Schema = """
        {"type":"object","properties":{"name":{"type":"string"},"n":{"type":"integer","minimum":1,"maximum":9},"ok":{"type":"boolean"}},"required":["name","n","ok"],"additionalProperties":false}
        """;

    private static async Task<(List<int> Tokens, string Text, FinishReason? Finish)> Run(InferenceEngine engine, GenerationRequest request)
    {
        var tokens = new List<int>();
        var text = new System.Text.StringBuilder();
        FinishReason? finish = null;
        await foreach (var chunk in engine.GenerateAsync(request))
        {
            tokens.AddRange(chunk.TokenIds);
            text.Append(chunk.TextDelta);
            finish = chunk.FinishReason ?? finish;
        }
        return (tokens, text.ToString(), finish);
    }

    [Fact]
    public async Task A_mixed_batch_gives_each_sequence_what_it_gets_alone()
    {
        using var engine = CreateEngine();
        var alone = new List<(List<int> Tokens, string Text, FinishReason? Finish)>();
        for (int i = 0; i < 8; i++)
            alone.Add(await Run(engine, Request(engine, i)));

        var together = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Run(engine, Request(engine, i))));

        var validator = JsonSchema.FromText(Schema);
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(alone[i].Tokens, together[i].Tokens);
            if (i % 2 == 0)
            {
                using var document = JsonDocument.Parse(together[i].Text);
                Assert.True(validator.Evaluate(document.RootElement).IsValid, together[i].Text);
                Assert.Equal(FinishReason.EndOfSequence, together[i].Finish);
            }
        }
    }

    [Fact]
    public async Task A_prompt_that_leaves_little_context_still_gets_closed_json()
    {
        using var engine = CreateEngine();
        var cache = TokenGrammarCache.For(engine.Tokenizer);
        var spec = GrammarSpec.JsonSchema(Schema);
        int minimum = cache.Get(spec).Distance(TokenGrammar.StartState);
        var validator = JsonSchema.FromText(Schema);
        for (int seed = 0; seed < 8; seed++)
        {
            // max_tokens far above what the context leaves: the grammar must plan for the context, not max_tokens.
            int left = minimum + seed % 4;
            int[] prompt = [50256, .. Enumerable.Range(0, 128 - left - 1).Select(i => 40 + (i * 7 + seed) % 200)];
            var request = new GenerationRequest
            {
                PromptTokens = prompt,
                Sampling = new SamplingParams { Temperature = 1f, Seed = (ulong)(500 + seed), MaxNewTokens = 120 },
                LogitsProcessor = cache.CreateProcessor(spec, 120),
            };
            var (tokens, text, finish) = await Run(engine, request);
            Assert.True(tokens.Count <= left, $"seed {seed}: {tokens.Count} tokens with {left} positions left");
            using var document = JsonDocument.Parse(text);
            Assert.True(validator.Evaluate(document.RootElement).IsValid, $"seed {seed}: {text}");
        }
    }
}
