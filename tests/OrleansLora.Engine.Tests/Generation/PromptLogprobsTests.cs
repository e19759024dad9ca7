using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Sampling;
using OrleansLora.Engine.Tests.Reference;
using OrleansLora.Engine.Tests.Support;

namespace OrleansLora.Engine.Tests.Generation;

/// <summary>
/// Prompt-token log-probabilities (vLLM's prompt_logprobs, LoRAX's decoder_input_details) against log-softmax of a
/// float64 reference forward, on fresh random prompts: prefilled in chunks, on fixed slots and paged blocks, again with
/// the prompt in the prefix cache (every position must still be computed), and beside a request that does not ask.
/// </summary>
public sealed class PromptLogprobsTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>
{
    private const double Tolerance = 2e-3; // float32 engine against float64 reference, in nats

    [Theory]
    [InlineData(16)] // paged KV blocks, prefix caching on
    [InlineData(0)]  // fixed sequence slots
    public async Task Prompt_logprobs_match_the_float64_reference_in_chunks_and_with_the_prefix_cached(int kvBlockSize)
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        var reference = ReferenceLlama.Load(model.Path);
        int vocab = reference.Config.VocabSize;
        int[] prompt = [.. Enumerable.Range(0, 37).Select(_ => rng.Next(vocab))];
        int[] other = [.. Enumerable.Range(0, 9).Select(_ => rng.Next(vocab))];
        var expected = reference.Logits(prompt);
        using var engine = InferenceEngine.Create(new InferenceEngineOptions
        {
            ModelPath = model.Path,
            MaxSequenceLength = 128,
            MaxBatchSize = 4,
            MaxBatchTokens = 16, // the 37-token prompt is prefilled in three chunks
            KvBlockSize = kvBlockSize,
            KvCacheBytes = 8L * 1024 * 1024,
        });
        var greedy = SamplingParams.Greedy with { MaxNewTokens = 4, IgnoreEos = true };
        var (alone, _) = await Run(engine, other, greedy);

        for (int run = 0; run < 2; run++) // the second time, the prompt's blocks are in the prefix cache
        {
            var withLogprobs = Run(engine, prompt, greedy with { PromptLogprobs = 3 });
            var beside = Run(engine, other, greedy);
            var (_, promptLogprobs) = await withLogprobs;
            Assert.Equal(alone, (await beside).Tokens); // the other request's numbers do not change

            Assert.Equal(prompt.Length, promptLogprobs.Count);
            Assert.Equal(prompt[0], promptLogprobs[0].Chosen.TokenId);
            Assert.True(float.IsNaN(promptLogprobs[0].Chosen.Logprob), "the first prompt token has no log-probability");
            Assert.Empty(promptLogprobs[0].Top);
            for (int k = 1; k < prompt.Length; k++)
            {
                var row = expected[k - 1]; // the position before token k predicts it
                double logZ = LogSumExp(row);
                var entry = promptLogprobs[k];
                Assert.Equal(prompt[k], entry.Chosen.TokenId);
                double want = row[prompt[k]] - logZ;
                Assert.True(Math.Abs(entry.Chosen.Logprob - want) <= Tolerance, $"seed {seed}, run {run}, token {k}: logprob {entry.Chosen.Logprob} against {want}");
                Assert.Equal(3, entry.Top.Count);
                for (int j = 0; j < entry.Top.Count; j++)
                {
                    var alt = entry.Top[j];
                    Assert.True(Math.Abs(alt.Logprob - (row[alt.TokenId] - logZ)) <= Tolerance, $"seed {seed}, run {run}, token {k}, alternative {j}");
                    if (j > 0)
                        Assert.True(alt.Logprob <= entry.Top[j - 1].Logprob);
                }
                // The reference's most likely token leads unless it is within the tolerance of the engine's.
                int best = Enumerable.Range(0, vocab).MaxBy(v => row[v]);
                Assert.True(entry.Top[0].TokenId == best || row[best] - row[entry.Top[0].TokenId] <= Tolerance, $"seed {seed}, token {k}: top-1 {entry.Top[0].TokenId}, reference {best}");
            }
        }
    }

    [Fact]
    public async Task Only_the_first_chunk_carries_them_and_a_one_token_prompt_has_just_the_first_entry()
    {
        using var engine = InferenceEngine.Create(new InferenceEngineOptions { ModelPath = model.Path, MaxSequenceLength = 64, MaxBatchSize = 2, KvCacheBytes = 4L * 1024 * 1024 });
        var chunks = new List<GenerationChunk>();
        await foreach (var chunk in engine.GenerateAsync(new GenerationRequest { PromptTokens = [5], Sampling = SamplingParams.Greedy with { MaxNewTokens = 3, IgnoreEos = true, PromptLogprobs = 0 } }))
            chunks.Add(chunk);
        var first = Assert.Single(chunks[0].PromptLogprobs!);
        Assert.Equal(5, first.Chosen.TokenId);
        Assert.All(chunks.Skip(1), c => Assert.Null(c.PromptLogprobs));
    }

    [Fact]
    public void Out_of_range_counts_are_refused_by_name()
    {
        var ex = Assert.Throws<ArgumentException>(() => (SamplingParams.Greedy with { PromptLogprobs = 21 }).Validate());
        Assert.Equal(nameof(SamplingParams.PromptLogprobs), ex.ParamName);
        Assert.Throws<ArgumentException>(() => (SamplingParams.Greedy with { PromptLogprobs = -1 }).Validate());
    }

    private static async Task<(int[] Tokens, IReadOnlyList<SampleLogprobs> PromptLogprobs)> Run(InferenceEngine engine, int[] prompt, SamplingParams sampling)
    {
        var tokens = new List<int>();
        IReadOnlyList<SampleLogprobs>? promptLogprobs = null;
        await foreach (var chunk in engine.GenerateAsync(new GenerationRequest { PromptTokens = prompt, Sampling = sampling }))
        {
            tokens.AddRange(chunk.TokenIds);
            if (chunk.PromptLogprobs is { } p)
            {
                Assert.Null(promptLogprobs); // once
                promptLogprobs = p;
            }
        }
        if (sampling.PromptLogprobs is null)
            Assert.Null(promptLogprobs);
        return ([.. tokens], promptLogprobs ?? []);
    }

    private static double LogSumExp(double[] row)
    {
        double max = row.Max();
        return max + Math.Log(row.Sum(x => Math.Exp(x - max)));
    }
}
