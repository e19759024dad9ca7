using OrleansLora.Engine.Cuda;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Runners;
using OrleansLora.Engine.Sampling;
using OrleansLora.Engine.Tokenization;
using Xunit.Abstractions;

namespace OrleansLora.Engine.Tests.Cuda;

/// <summary>
/// The engine over the CUDA runner in host emulation: continuous batching of requests on several adapters and the base
/// model, prompt log-probabilities, and the paged cache's prefix sharing (a group of samples prefilled once, the partial
/// block copied with <see cref="IModelRunner.CopyKvBlocks"/>).
/// </summary>
public sealed class CudaEngineTests(CudaTestModels models, ITestOutputHelper output) : IClassFixture<CudaTestModels>
{
    private const string Model = "llama";

    private InferenceEngineOptions Options(bool prefixCaching = true) => new()
    {
        ModelPath = models.Path(Model),
        MaxSequenceLength = 128,
        KvBlockSize = 16,
        KvCacheBytes = 8L << 20,
        MaxBatchSize = 8,
        MaxBatchTokens = 16, // prompts are prefilled in chunks beside the decode rows
        MaxLoras = 2,
        MaxLoraRank = 16,
        PrefixCaching = prefixCaching,
    };

    private InferenceEngine CudaEngine(InferenceEngineOptions options)
    {
        CudaHostLibrary.Require();
        var runner = CudaModelRunner.Load(options.ModelPath, new ModelLoadOptions { MaxSequenceLength = options.MaxSequenceLength }, ModelRunnerOptions.From(options), CudaContext.HostDevice);
        try
        {
            var engine = new InferenceEngine(runner, TokenizerLoader.Load(options.ModelPath), options);
            engine.RegisterAdapter("a0", models.AdapterPath(Model, 0));
            engine.RegisterAdapter("a1", models.AdapterPath(Model, 1));
            return engine;
        }
        catch
        {
            runner.Dispose();
            throw;
        }
    }

    private static int[] Prompt(int seed, int length)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, length).Select(_ => rng.Next(0, 50257))];
    }

    private static GenerationRequest Greedy(int[] prompt, string? adapter, int newTokens) => new()
    {
        PromptTokens = prompt,
        AdapterId = adapter,
        Sampling = SamplingParams.Greedy with { MaxNewTokens = newTokens, IgnoreEos = true },
    };

    private static async Task<(int[] Tokens, IReadOnlyList<SampleLogprobs> PromptLogprobs)> Run(InferenceEngine engine, GenerationRequest request)
    {
        var tokens = new List<int>();
        IReadOnlyList<SampleLogprobs>? promptLogprobs = null;
        await foreach (var chunk in engine.GenerateAsync(request))
        {
            tokens.AddRange(chunk.TokenIds);
            promptLogprobs ??= chunk.PromptLogprobs;
        }
        return ([.. tokens], promptLogprobs ?? []);
    }

    [Fact]
    public async Task Concurrent_greedy_requests_on_two_adapters_and_the_base_each_get_their_tokens_alone()
    {
        string?[] adapters = ["a0", "a1", null, "a0", "a1", null];
        var requests = adapters.Select((a, i) => Greedy(Prompt(100 + i, 9 + 5 * i), a, 14)).ToArray();
        using var engine = CudaEngine(Options(prefixCaching: false));
        var alone = new int[requests.Length][];
        for (int i = 0; i < requests.Length; i++)
            alone[i] = (await Run(engine, requests[i])).Tokens;
        var together = await Task.WhenAll(requests.Select(r => Run(engine, r)));
        for (int i = 0; i < requests.Length; i++)
        {
            Assert.Equal(14, together[i].Tokens.Length);
            Assert.Equal(alone[i], together[i].Tokens);
        }
        // The same prompt on each adapter and the base: the adapters change what is generated.
        var prompt = Prompt(7, 20);
        var onEach = await Task.WhenAll(new[] { "a0", "a1", null }.Select(a => Run(engine, Greedy(prompt, a, 10))));
        Assert.Equal(3, onEach.Select(r => string.Join(',', r.Tokens)).Distinct().Count());
        Assert.True(engine.Statistics.AdapterLoads >= 2);
    }

    [Fact]
    public async Task Prompt_logprobs_agree_with_the_cpu_runner_and_leave_another_request_unchanged()
    {
        var prompt = Prompt(11, 37);
        var other = Prompt(12, 9);
        var options = Options();
        var sampling = SamplingParams.Greedy with { MaxNewTokens = 4, IgnoreEos = true };
        IReadOnlyList<SampleLogprobs> expected;
        using (var cpu = InferenceEngine.Create(options))
            expected = (await Run(cpu, new GenerationRequest { PromptTokens = prompt, Sampling = sampling with { PromptLogprobs = 2 } })).PromptLogprobs;

        using var engine = CudaEngine(options);
        var (alone, _) = await Run(engine, new GenerationRequest { PromptTokens = other, Sampling = sampling });
        double worst = 0;
        for (int run = 0; run < 2; run++) // the second time the prompt's blocks are cached: every position is still computed
        {
            var withLogprobs = Run(engine, new GenerationRequest { PromptTokens = prompt, Sampling = sampling with { PromptLogprobs = 2 } });
            var beside = Run(engine, new GenerationRequest { PromptTokens = other, Sampling = sampling });
            var (_, logprobs) = await withLogprobs;
            Assert.Equal(alone, (await beside).Tokens);
            Assert.Equal(prompt.Length, logprobs.Count);
            Assert.True(float.IsNaN(logprobs[0].Chosen.Logprob));
            for (int k = 1; k < prompt.Length; k++)
            {
                Assert.Equal(prompt[k], logprobs[k].Chosen.TokenId);
                Assert.Equal(2, logprobs[k].Top.Count);
                double delta = Math.Abs(logprobs[k].Chosen.Logprob - expected[k].Chosen.Logprob);
                worst = Math.Max(worst, delta);
                Assert.True(delta <= 0.1, $"run {run}, token {k}: logprob {logprobs[k].Chosen.Logprob} against the CPU runner's {expected[k].Chosen.Logprob}");
            }
        }
        output.WriteLine($"prompt logprobs, CUDA host emulation against the CPU runner: max |Δ| {worst:g3} nats");
    }

    [Fact]
    public async Task A_group_of_samples_prefills_its_prompt_once_and_each_sample_generates_as_alone()
    {
        const int promptLength = 40, samples = 3; // two full blocks shared, the partial third copied into each sample's own
        var prompt = Prompt(21, promptLength);
        async Task<(int[][] Tokens, long Prefilled, long PrefixHits)> RunAll(string? group)
        {
            using var engine = CudaEngine(Options(prefixCaching: group is not null));
            var sampling = new SamplingParams { Temperature = 0.8f, TopP = 0.95f, MaxNewTokens = 8, IgnoreEos = true };
            var results = await Task.WhenAll(Enumerable.Range(0, samples).Select(i =>
                Run(engine, new GenerationRequest { PromptTokens = prompt, Sampling = sampling with { Seed = 100 + (ulong)i }, PrefixGroup = group, AdapterId = "a0" })));
            return ([.. results.Select(r => r.Tokens)], engine.Statistics.PrefillTokens, engine.Statistics.PrefixHitTokens);
        }
        var (alone, prefilledAlone, _) = await RunAll(group: null);
        var (grouped, prefilledGrouped, hits) = await RunAll(group: "g");
        Assert.Equal(samples * promptLength, prefilledAlone);
        Assert.Equal(promptLength + (samples - 1), prefilledGrouped);
        Assert.Equal((samples - 1) * 32, hits);
        for (int i = 0; i < samples; i++)
            Assert.Equal(alone[i], grouped[i]);
        Assert.True(grouped.Select(g => string.Join(',', g)).Distinct().Count() > 1, "the seeds gave identical samples");
    }
}
