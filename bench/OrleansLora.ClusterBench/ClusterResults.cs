using System.Text.Json.Nodes;
using OrleansLora.Bench;
using OrleansLora.Engine.Generation;

namespace OrleansLora.ClusterBench;

/// <summary>Turns the timed rounds into the report's results: one per path, and the ratios issues 5 and 6 state targets in.</summary>
internal static class ClusterResults
{
    public const double OrleansTarget = 0.95;

    public static string Scenario(string path, int concurrency) => path switch
    {
        PathNames.Orleans => $"orleans-client-b{concurrency}",
        _ => $"{path}-b{concurrency}",
    };

    public static void Add(BenchReport report, ClusterBenchOptions options, InferenceEngineOptions engine, IReadOnlyDictionary<string, List<RoundResult>> rounds, IReadOnlyDictionary<string, int> outputsEqualToEngine, IReadOnlyDictionary<string, List<double>> probes)
    {
        foreach (var (path, list) in rounds)
        {
            var ttfts = list.SelectMany(r => r.Requests).Select(r => r.TtftMilliseconds).ToList();
            var tps = list.Select(r => r.TokensPerSecond).ToList();
            var fields = Parameters(options, engine);
            fields["path"] = path;
            fields["tokens_per_s"] = Round(Percentiles.Median(tps));
            fields["tokens_per_s_min"] = Round(tps.Min());
            fields["tokens_per_s_max"] = Round(tps.Max());
            fields["round_s_p50"] = Round(Percentiles.Median(list.Select(r => r.WallSeconds)), 3);
            fields["ttft_ms_p50"] = Round(Percentiles.Of(ttfts, 50));
            fields["ttft_ms_p99"] = Round(Percentiles.Of(ttfts, 99));
            fields["requests"] = ttfts.Count;
            // Processor time per generated token in each process: the engine's work is the same on every path,
            // so the difference is what the path adds (client, grains, serialization, HTTP), wherever it runs.
            fields["bench_cpu_ms_per_token"] = Round(Percentiles.Median(list.Select(r => r.BenchCpuSeconds * 1000 / r.GeneratedTokens)), 2);
            fields["server_cpu_ms_per_token"] = Round(Percentiles.Median(list.Select(r => r.ServerCpuSeconds * 1000 / r.GeneratedTokens)), 2);
            fields["cpu_ms_per_token"] = Round(Percentiles.Median(list.Select(CpuMsPerToken)), 2);
            fields["tokens_per_s_rounds"] = new JsonArray(tps.Select(t => (JsonNode)Round(t)).ToArray());
            if (outputsEqualToEngine.TryGetValue(path, out int equal))
                fields["outputs_equal_to_engine"] = equal;
            report.Add(Scenario(path, options.Concurrency), fields);
        }
        foreach (var (path, ttfts) in probes.Where(p => p.Value.Count > 0))
        {
            var fields = Parameters(options, engine);
            fields["path"] = path;
            fields["batch"] = 1;
            fields["new_tokens"] = 1;
            fields["rounds"] = null;
            fields["ttft_ms_p50"] = Round(Percentiles.Of(ttfts, 50));
            fields["ttft_ms_p99"] = Round(Percentiles.Of(ttfts, 99));
            fields["requests"] = ttfts.Count;
            report.Add(Scenario(path, 1), fields);
        }
        AddRatio(report, options, rounds, probes, PathNames.Orleans, PathNames.Engine, OrleansTarget);
        AddRatio(report, options, rounds, probes, PathNames.Http, PathNames.Orleans, target: null);
        AddRatio(report, options, rounds, probes, PathNames.Http, PathNames.Engine, target: null);
    }

    /// <summary>
    /// a/b tokens/s as the median of per-round ratios (round r of a against round r of b, run next to each other,
    /// so slow drift on the shared machine cancels), and added time to first token at p50 and p99 over all requests.
    /// </summary>
    private static void AddRatio(BenchReport report, ClusterBenchOptions options, IReadOnlyDictionary<string, List<RoundResult>> rounds, IReadOnlyDictionary<string, List<double>> probes, string a, string b, double? target)
    {
        if (!rounds.TryGetValue(a, out var ra) || !rounds.TryGetValue(b, out var rb))
            return;
        var perRound = ra.Zip(rb, (x, y) => x.TokensPerSecond / y.TokensPerSecond).ToList();
        double Ttft(List<RoundResult> l, double p) => Percentiles.Of(l.SelectMany(r => r.Requests).Select(r => r.TtftMilliseconds), p);
        var fields = new Dictionary<string, JsonNode?>
        {
            ["ratio"] = Round(Percentiles.Median(perRound), 3),
            ["ratio_of_medians"] = Round(Percentiles.Median(ra.Select(r => r.TokensPerSecond)) / Percentiles.Median(rb.Select(r => r.TokensPerSecond)), 3),
            ["ratio_rounds"] = new JsonArray(perRound.Select(x => (JsonNode)Round(x, 3)).ToArray()),
            // Processor time is far less sensitive than wall time to what else the shared machine runs.
            ["cpu_per_token_ratio"] = Round(Percentiles.Median(ra.Zip(rb, (x, y) => CpuMsPerToken(x) / CpuMsPerToken(y))), 3),
            ["added_ttft_ms_p50"] = Round(Ttft(ra, 50) - Ttft(rb, 50)),
            ["added_ttft_ms_p99"] = Round(Ttft(ra, 99) - Ttft(rb, 99)),
        };
        if (probes.TryGetValue(a, out var pa) && probes.TryGetValue(b, out var pb) && pa.Count > 0 && pb.Count > 0)
        {
            fields["added_ttft_b1_ms_p50"] = Round(Percentiles.Of(pa, 50) - Percentiles.Of(pb, 50));
            fields["added_ttft_b1_ms_p99"] = Round(Percentiles.Of(pa, 99) - Percentiles.Of(pb, 99));
        }
        if (target is { } t)
        {
            fields["target"] = t;
            fields["meets_target"] = Percentiles.Median(perRound) >= t;
        }
        report.Add($"ratio:{Scenario(a, options.Concurrency)}/{Scenario(b, options.Concurrency)}", fields);
    }

    private static Dictionary<string, JsonNode?> Parameters(ClusterBenchOptions options, InferenceEngineOptions engine) => new()
    {
        ["model"] = options.Preset,
        ["quantization"] = engine.Quantization.ToString().ToLowerInvariant(),
        ["dtype"] = engine.Dtype,
        ["batch"] = options.Concurrency,
        ["adapters"] = options.Adapters,
        ["rank"] = options.Rank,
        ["prompt_tokens"] = options.PromptTokens,
        ["new_tokens"] = options.NewTokens,
        ["sampling"] = "greedy",
        ["rounds"] = options.Rounds,
        ["threads"] = options.Threads,
    };

    /// <summary>Both processes' processor time over the round's generated tokens.</summary>
    private static double CpuMsPerToken(RoundResult r) => (r.BenchCpuSeconds + r.ServerCpuSeconds) * 1000 / r.GeneratedTokens;

    private static double Round(double value, int digits = 1) => Math.Round(value, digits);
}
