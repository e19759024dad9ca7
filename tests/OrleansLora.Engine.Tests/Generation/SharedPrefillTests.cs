using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Sampling;
using OrleansLora.Engine.Tests.Support;

namespace OrleansLora.Engine.Tests.Generation;

/// <summary>
/// Samples of one prompt in a prefix group (OpenAI's <c>n</c>): the prompt is prefilled once and its keys and values
/// copied to the other samples (fixed slots), or with a paged cache its full blocks shared through the prefix cache and the
/// partial last one copied into each sample's own block; each then generates exactly what it generates on its own.
/// </summary>
public sealed class SharedPrefillTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>
{
    private const int PromptLength = 40;
    private const int Samples = 3;

    /// <summary>Prefix caching only for a group: samples run "alone" must not find each other's blocks either.</summary>
    private InferenceEngine CreateEngine(int kvBlockSize, bool grouped) => InferenceEngine.Create(new InferenceEngineOptions
    {
        ModelPath = model.Path,
        MaxBatchSize = 4,
        MaxSequenceLength = 128,
        KvCacheBytes = 16L * 1024 * 1024,
        KvBlockSize = kvBlockSize,
        PrefixCaching = grouped,
    });

    private static async Task<(List<int> Tokens, List<float> Logprobs)> Run(InferenceEngine engine, int[] prompt, ulong seed, string? group)
    {
        var tokens = new List<int>();
        var logprobs = new List<float>();
        var sampling = new SamplingParams { Temperature = 0.8f, TopP = 0.95f, Seed = seed, MaxNewTokens = 8, IgnoreEos = true, Logprobs = 0 };
        await foreach (var chunk in engine.GenerateAsync(new GenerationRequest { PromptTokens = prompt, Sampling = sampling, PrefixGroup = group }))
        {
            tokens.AddRange(chunk.TokenIds);
            logprobs.AddRange(chunk.Logprobs!.Select(l => l.Chosen.Logprob));
        }
        return (tokens, logprobs);
    }

    /// <summary>On a fresh engine each time: a reused KV slot still holding an earlier run's keys and values of the same prompt would hide a copy that missed positions.</summary>
    private async Task<((List<int> Tokens, List<float> Logprobs)[] Results, long Prefilled)> RunAll(int[][] prompts, string? group, int kvBlockSize)
    {
        using var engine = CreateEngine(kvBlockSize, grouped: group is not null);
        var results = await Task.WhenAll(prompts.Select((p, i) => Run(engine, p, 100 + (ulong)i, group)));
        return (results, engine.Statistics.PrefillTokens);
    }

    private static int[] Prompt(int seed) => Enumerable.Range(0, PromptLength).Select(i => new Random(seed + i).Next(0, 50000)).ToArray();

    [Theory]
    [InlineData(0, PromptLength + (Samples - 1))]            // slots: the others run only the prompt's last token
    [InlineData(16, PromptLength + (Samples - 1))]           // blocks: two shared, the partial third copied
    public async Task A_group_prefills_its_prompt_once_and_each_sample_generates_as_it_would_alone(int kvBlockSize, int expectedPrefill)
    {
        var prompt = Prompt(7);
        var prompts = Enumerable.Repeat(prompt, Samples).ToArray();

        var (alone, prefilledAlone) = await RunAll(prompts, group: null, kvBlockSize);
        var (grouped, prefilledGrouped) = await RunAll(prompts, group: "g1", kvBlockSize);

        Assert.Equal(Samples * PromptLength, prefilledAlone);
        Assert.Equal(expectedPrefill, prefilledGrouped);
        for (int i = 0; i < Samples; i++)
        {
            Assert.Equal(alone[i].Tokens, grouped[i].Tokens);
            Assert.All(alone[i].Logprobs.Zip(grouped[i].Logprobs), p => Assert.Equal(p.First, p.Second, 1e-4f));
        }
        Assert.True(grouped.Select(g => string.Join(',', g.Tokens)).Distinct().Count() > 1, "the seeds gave identical samples");
    }

    [Theory]
    [InlineData(0, 2 * PromptLength)]                 // slots: no copy
    [InlineData(16, PromptLength + (PromptLength - 32))] // blocks: only the two full blocks before the difference are shared
    public async Task A_group_whose_prompts_differ_shares_only_what_is_equal_and_still_answers_each_as_alone(int kvBlockSize, int expectedPrefill)
    {
        var prompt = Prompt(9);
        var other = (int[])prompt.Clone();
        other[PromptLength - 2] = (other[PromptLength - 2] + 1) % 50000; // differs inside the part a copy would take
        int[][] prompts = [prompt, other];

        var (alone, _) = await RunAll(prompts, group: null, kvBlockSize);
        var (grouped, prefilled) = await RunAll(prompts, group: "g2", kvBlockSize);

        Assert.Equal(expectedPrefill, prefilled);
        for (int i = 0; i < prompts.Length; i++)
            Assert.Equal(alone[i].Tokens, grouped[i].Tokens);
    }
}
