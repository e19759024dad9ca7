using System.Diagnostics;
using System.Text.Json.Nodes;
using OrleansLora.Engine.Sampling;

namespace OrleansLora.Bench;

/// <summary>
/// What log-probabilities cost per sampled token: one sampler step over a vocabulary-sized row of logits, without
/// log-probabilities, with the chosen token's only (logprobs 0) and with the top 20, greedy and with top-p. The
/// extra work is one float64 log-sum-exp pass over the row and a size-k heap scan.
/// </summary>
internal static class LogprobsScenario
{
    private const int Steps = 400;

    public static void Run(BenchReport report)
    {
        foreach (int vocabulary in new[] { 32_000, 128_256 })
        {
            var rng = new Random(3);
            // Logits shaped like a model's: mostly small, a few large (a peaked distribution).
            float[][] rows = Enumerable.Range(0, 8).Select(_ => Enumerable.Range(0, vocabulary)
                .Select(_ => (float)(rng.NextDouble() * 8 - 4 + (rng.Next(1000) == 0 ? 10 : 0))).ToArray()).ToArray();
            foreach (var (mode, baseParams) in new[] { ("greedy", SamplingParams.Greedy), ("top-p", new SamplingParams { Temperature = 0.8f, TopP = 0.95f, Seed = 1 }) })
            {
                double? without = null;
                foreach (int? logprobs in new int?[] { null, 0, 20 })
                {
                    var sampler = new SequenceSampler(baseParams with { Logprobs = logprobs }, []);
                    for (int i = 0; i < Steps / 10; i++)
                        sampler.Sample(rows[i % rows.Length], out _); // warm-up
                    var times = new double[Steps];
                    for (int i = 0; i < Steps; i++)
                    {
                        long t0 = Stopwatch.GetTimestamp();
                        sampler.Sample(rows[i % rows.Length], out _);
                        times[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
                    }
                    Array.Sort(times);
                    double p50 = times[Steps / 2];
                    without ??= p50;
                    string name = logprobs is null ? "none" : $"top{logprobs}";
                    report.Add($"sample-{mode}-logprobs-{name}-v{vocabulary}", new Dictionary<string, JsonNode?>
                    {
                        ["vocabulary"] = vocabulary,
                        ["logprobs"] = logprobs,
                        ["step_us_p50"] = Math.Round(p50, 1),
                        ["step_us_p99"] = Math.Round(times[Steps * 99 / 100], 1),
                        ["extra_us_p50"] = Math.Round(p50 - without.Value, 1),
                    });
                }
            }
        }
    }
}
