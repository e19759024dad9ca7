using System.Text.Json.Nodes;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Sampling;

namespace OrleansLora.Bench;

/// <summary>
/// Adapter load times in isolation: one slot, a large host cache, one-token requests on
/// <c>n</c> rank-16 adapters in turn (each a cold load: disk → host → slot), then on the same
/// adapters again (each a warm load: host → slot, since the single slot evicted it). The engine's
/// own counters time the loads; "disk" is the page cache here, as the files were just read.
/// </summary>
internal static class AdapterLoadScenario
{
    public static void Run(BenchReport report, BenchOptions options, string modelDir, string[] files)
    {
        int n = Math.Min(files.Length, 32);
        using var engine = InferenceEngine.Create(new InferenceEngineOptions
        {
            ModelPath = modelDir,
            Dtype = options.Dtype,
            MaxBatchSize = 1,
            MaxSequenceLength = 64,
            KvCacheBytes = 64L * 1024 * 1024,
            MaxLoras = 1,
            MaxCpuLoras = n,
            MaxLoraRank = MultiAdapterScenario.Rank,
        });
        for (int i = 0; i < n; i++)
            engine.RegisterAdapter($"adapter-{i}", files[i]);
        var sampling = SamplingParams.Greedy with { MaxNewTokens = 1, IgnoreEos = true };
        for (int round = 0; round < 2; round++)
        {
            for (int i = 0; i < n; i++)
            {
                var request = new GenerationRequest { PromptTokens = [1, 2, 3, 4], Sampling = sampling, AdapterId = $"adapter-{i}" };
                foreach (var chunk in engine.GenerateAsync(request).ToBlockingEnumerable())
                    _ = chunk;
            }
        }
        var stats = engine.Statistics;
        report.Add($"adapter-load-r{MultiAdapterScenario.Rank}", new Dictionary<string, JsonNode?>
        {
            ["model"] = options.Preset,
            ["dtype"] = options.Dtype,
            ["rank"] = MultiAdapterScenario.Rank,
            ["adapters"] = n,
        }.Concat(LoadTimes(stats)));
    }

    /// <summary>The engine's cold (disk → slot) and warm (host → slot) load counts and times.</summary>
    public static IEnumerable<KeyValuePair<string, JsonNode?>> LoadTimes(EngineStatistics stats) =>
    [
        new("cold_loads", stats.ColdLoads),
        new("cold_load_ms_p50", Math.Round(stats.ColdLoadMillisecondsP50, 2)),
        new("cold_load_ms_p99", Math.Round(stats.ColdLoadMillisecondsP99, 2)),
        new("warm_loads", stats.WarmLoads),
        new("warm_load_ms_p50", Math.Round(stats.WarmLoadMillisecondsP50, 3)),
        new("warm_load_ms_p99", Math.Round(stats.WarmLoadMillisecondsP99, 3)),
    ];
}
