using System.Diagnostics;
using System.Text.Json.Nodes;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Sampling;

namespace OrleansLora.Bench;

/// <summary>
/// OpenAI's <c>n</c> through the engine: n samples of one prompt with and without a shared prefill (a prefix group:
/// one prefill, the others copy its keys and values). Time to every sample's first token and to the end, and the prompt
/// tokens the engine prefilled; the median of a few rounds, each on its own engine.
/// </summary>
internal static class SharedPrefillScenario
{
    private const int Samples = 4;
    private const int Rounds = 3;

    public static void Run(BenchReport report, BenchOptions options, string modelDir)
    {
        int promptTokens = Math.Max(options.PromptTokens, 256);
        int newTokens = options.NewTokens;
        var prompt = Enumerable.Range(0, promptTokens).Select(i => new Random(i).Next(0, 50000)).ToArray();
        var figures = new Dictionary<bool, (double FirstMs, double TotalMs, long Prefilled)>();
        foreach (bool shared in new[] { false, true })
        {
            var rounds = new List<(double FirstMs, double TotalMs, long Prefilled)>();
            for (int round = 0; round < Rounds; round++)
            {
                using var engine = InferenceEngine.Create(new InferenceEngineOptions
                {
                    ModelPath = modelDir,
                    Dtype = options.Dtype,
                    MaxBatchSize = Samples,
                    MaxBatchTokens = Math.Max(512, promptTokens),
                    MaxSequenceLength = promptTokens + newTokens + 1,
                    KvCacheBytes = long.MaxValue / 4,
                });
                var t0 = Stopwatch.GetTimestamp();
                double lastFirst = 0;
                var gate = new object();
                var tasks = Enumerable.Range(0, Samples).Select(async i =>
                {
                    var request = new GenerationRequest
                    {
                        PromptTokens = prompt,
                        PrefixGroup = shared ? "bench" : null,
                        Sampling = new SamplingParams { Temperature = 0.8f, Seed = (ulong)i, MaxNewTokens = newTokens, IgnoreEos = true },
                    };
                    bool first = true;
                    await foreach (var _ in engine.GenerateAsync(request))
                    {
                        if (first)
                        {
                            double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                            lock (gate)
                                lastFirst = Math.Max(lastFirst, ms);
                            first = false;
                        }
                    }
                }).ToArray();
                Task.WhenAll(tasks).GetAwaiter().GetResult();
                rounds.Add((lastFirst, Stopwatch.GetElapsedTime(t0).TotalMilliseconds, engine.Statistics.PrefillTokens));
            }
            var median = rounds.OrderBy(r => r.TotalMs).ElementAt(Rounds / 2);
            figures[shared] = median;
            report.Add($"samples-n{Samples}-{(shared ? "shared" : "separate")}-prefill", new Dictionary<string, JsonNode?>
            {
                ["n"] = Samples,
                ["prompt_tokens"] = promptTokens,
                ["new_tokens"] = newTokens,
                ["prefilled_tokens"] = median.Prefilled,
                ["last_first_token_ms"] = Math.Round(median.FirstMs, 1),
                ["total_ms"] = Math.Round(median.TotalMs, 1),
            });
        }
        report.Add($"ratio:samples-n{Samples}-shared/separate", new Dictionary<string, JsonNode?>
        {
            ["ratio"] = Math.Round(figures[true].TotalMs / figures[false].TotalMs, 3),
        });
    }
}
