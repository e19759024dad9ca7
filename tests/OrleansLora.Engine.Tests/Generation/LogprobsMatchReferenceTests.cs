using System.Globalization;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.ModelInit;
using OrleansLora.Engine.Sampling;
using OrleansLora.Engine.Tests.Reference;
using OrleansLora.Engine.Tests.Support;
using Xunit.Abstractions;

namespace OrleansLora.Engine.Tests.Generation;

/// <summary>
/// The log-probabilities the engine streams equal a float64 log_softmax of the independent reference model's
/// logits (<see cref="ReferenceLlama"/>) at the same positions: after the penalties, before temperature, with the
/// most likely tokens in order. Fresh random weights, prompt and seed on every run (printed, to replay a failure).
/// </summary>
public sealed class LogprobsMatchReferenceTests(ITestOutputHelper output) : IDisposable
{
    // Measured: the worst |engine - reference| over a run is about 2e-6 (float32 forward against float64); the
    // bound leaves two orders of magnitude for other random models, and still catches a temperature or a penalty
    // applied in the wrong place (those move log-probabilities by 1e-1 or more).
    private const double Tolerance = 2e-4;
    private const int Top = 5;

    private readonly TempDirectory _dir = new("olora-logprobs");

    public void Dispose() => _dir.Dispose();

    private (InferenceEngine Engine, ReferenceLlama Reference, int[] Prompt, Random Random) Setup()
    {
        int seed = Random.Shared.Next();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seed {seed}"));
        var random = new Random(seed);
        RandomModelWriter.Write(ModelPresets.Tiny, _dir.Path, seed: (ulong)random.NextInt64());
        var engine = InferenceEngine.Create(new InferenceEngineOptions
        {
            ModelPath = _dir.Path,
            Dtype = "float32",
            MaxBatchSize = 4,
            MaxSequenceLength = 64,
            KvCacheBytes = 8L * 1024 * 1024,
        });
        int[] prompt = Enumerable.Range(0, 7).Select(_ => random.Next(0, 50257)).ToArray();
        return (engine, ReferenceLlama.Load(_dir.Path), prompt, random);
    }

    private static async Task<(List<int> Tokens, List<SampleLogprobs> Logprobs)> Run(InferenceEngine engine, int[] prompt, SamplingParams sampling)
    {
        var tokens = new List<int>();
        var logprobs = new List<SampleLogprobs>();
        await foreach (var chunk in engine.GenerateAsync(new GenerationRequest { PromptTokens = prompt, Sampling = sampling }))
        {
            tokens.AddRange(chunk.TokenIds);
            Assert.NotNull(chunk.Logprobs);
            Assert.Equal(chunk.TokenIds.Count, chunk.Logprobs!.Count);
            logprobs.AddRange(chunk.Logprobs);
        }
        return (tokens, logprobs);
    }

    /// <summary>log_softmax in float64.</summary>
    private static double[] LogSoftmax(double[] logits)
    {
        double max = logits.Max();
        double logZ = max + Math.Log(logits.Sum(x => Math.Exp(x - max)));
        return logits.Select(x => x - logZ).ToArray();
    }

    /// <summary>HF's order: repetition penalty over prompt + generated (distinct ids), then OpenAI's presence/frequency over generated.</summary>
    private static double[] Penalized(double[] logits, SamplingParams p, IReadOnlyList<int> prompt, IReadOnlyList<int> generated)
    {
        var x = (double[])logits.Clone();
        foreach (int id in prompt.Concat(generated).Distinct())
            x[id] = x[id] > 0 ? x[id] / p.RepetitionPenalty : x[id] * p.RepetitionPenalty;
        foreach (var g in generated.GroupBy(id => id))
            x[g.Key] -= p.FrequencyPenalty * g.Count() + p.PresencePenalty;
        return x;
    }

    private void AssertMatchesReference(ReferenceLlama reference, int[] prompt, List<int> tokens, List<SampleLogprobs> logprobs, SamplingParams sampling)
    {
        Assert.Equal(tokens.Count, logprobs.Count);
        var rows = reference.Logits([.. prompt, .. tokens]);
        double worst = 0;
        for (int i = 0; i < tokens.Count; i++)
        {
            var expected = LogSoftmax(Penalized(rows[prompt.Length - 1 + i], sampling, prompt, tokens.Take(i).ToList()));
            var step = logprobs[i];
            Assert.Equal(tokens[i], step.Chosen.TokenId);
            worst = Math.Max(worst, Math.Abs(step.Chosen.Logprob - expected[tokens[i]]));
            Assert.True(Math.Abs(step.Chosen.Logprob - expected[tokens[i]]) <= Tolerance,
                $"step {i}: chosen token {tokens[i]} logprob {step.Chosen.Logprob}, reference {expected[tokens[i]]}");

            Assert.Equal(Top, step.Top.Count);
            for (int k = 0; k < Top; k++)
            {
                var t = step.Top[k];
                worst = Math.Max(worst, Math.Abs(t.Logprob - expected[t.TokenId]));
                Assert.True(Math.Abs(t.Logprob - expected[t.TokenId]) <= Tolerance, $"step {i}, top {k}: token {t.TokenId} logprob {t.Logprob}, reference {expected[t.TokenId]}");
                if (k > 0)
                    Assert.True(step.Top[k - 1].Logprob >= t.Logprob, $"step {i}: top not in descending order at {k}");
            }
            // The reported tokens are the most likely ones: nothing left out beats the last one (beyond rounding).
            var kept = step.Top.Select(t => t.TokenId).ToHashSet();
            double weakest = step.Top.Min(t => expected[t.TokenId]);
            int beaten = Enumerable.Range(0, expected.Length).Count(id => !kept.Contains(id) && expected[id] > weakest + Tolerance);
            Assert.True(beaten == 0, $"step {i}: {beaten} tokens outside the top {Top} are more likely than its last");
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{tokens.Count} steps, worst |engine - reference| {worst:E3}"));
    }

    [Fact]
    public async Task Greedy_logprobs_match_the_reference_and_the_choice_is_the_top_one()
    {
        var (engine, reference, prompt, _) = Setup();
        using var _ = engine;
        var sampling = SamplingParams.Greedy with { MaxNewTokens = 10, IgnoreEos = true, Logprobs = Top };
        var (tokens, logprobs) = await Run(engine, prompt, sampling);

        AssertMatchesReference(reference, prompt, tokens, logprobs, sampling);
        foreach (var step in logprobs)
            Assert.Equal(step.Top[0], step.Chosen); // same id, bit-identical logprob
    }

    [Fact]
    public async Task Sampled_logprobs_are_taken_before_temperature_and_after_penalties()
    {
        var (engine, reference, prompt, random) = Setup();
        using var _ = engine;
        var sampling = new SamplingParams
        {
            Temperature = 0.7f,
            TopP = 0.9f,
            RepetitionPenalty = 1.3f,
            PresencePenalty = 0.5f,
            FrequencyPenalty = 0.25f,
            Seed = (ulong)random.NextInt64(),
            MaxNewTokens = 10,
            IgnoreEos = true,
            Logprobs = Top,
        };
        var (tokens, logprobs) = await Run(engine, prompt, sampling);
        AssertMatchesReference(reference, prompt, tokens, logprobs, sampling);

        // Asking for log-probabilities changes nothing about the choice.
        var (plain, _) = await RunWithout(engine, prompt, sampling with { Logprobs = null });
        Assert.Equal(tokens, plain);
    }

    private static async Task<(List<int> Tokens, int Chunks)> RunWithout(InferenceEngine engine, int[] prompt, SamplingParams sampling)
    {
        var tokens = new List<int>();
        int chunks = 0;
        await foreach (var chunk in engine.GenerateAsync(new GenerationRequest { PromptTokens = prompt, Sampling = sampling }))
        {
            Assert.Null(chunk.Logprobs);
            tokens.AddRange(chunk.TokenIds);
            chunks++;
        }
        return (tokens, chunks);
    }
}
