using System.Diagnostics;
using System.Text.Json.Nodes;
using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Sampling;
using static TorchSharp.torch;

namespace OrleansLora.Bench;

/// <summary>
/// Adapter load times in isolation: one slot, a large host cache, one-token requests on
/// <c>n</c> rank-16 adapters in turn (each a cold load: disk → host → slot), then on the same
/// adapters again (each a warm load: host → slot, since the single slot evicted it). The engine's
/// own counters time the loads; "disk" is the page cache here, as the files were just read.
/// </summary>
internal static class AdapterLoadScenario
{
    public static void Run(BenchReport report, BenchOptions options, string modelDir)
    {
        var config = ModelConfig.Load(modelDir);
        int n = Math.Max(1, Math.Min(options.ZipfFiles, 32));
        string[] files = Enumerable.Range(0, n).Select(i => MultiAdapterScenario.AdapterDirectory(options, config, i)).ToArray();
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
            AdapterDtype = options.AdapterDtype,
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
            ["adapter_dtype"] = options.AdapterDtype,
            ["rank"] = MultiAdapterScenario.Rank,
            ["adapters"] = n,
        }.Concat(LoadTimes(stats)).Concat(LoadPaths(config, files, EngineDtypes.FromTorchDtypeName(options.AdapterDtype, "--adapter-dtype"))));
    }

    /// <summary>
    /// The disk → host part of a cold load outside the engine, in interleaved rounds over the same
    /// files: validation alone (<see cref="PeftAdapter.Inspect"/>), the engine's path
    /// (<see cref="PreparedAdapter.Load"/>) and the earlier one (<see cref="PeftAdapter.Load"/> then
    /// <see cref="PreparedAdapter.From"/>).
    /// </summary>
    private static IEnumerable<KeyValuePair<string, JsonNode?>> LoadPaths(ModelConfig config, string[] files, ScalarType dtype)
    {
        var inspect = new List<double>();
        var direct = new List<double>();
        var twoStep = new List<double>();
        var load = new AdapterLoadOptions { MaxRank = MultiAdapterScenario.Rank };
        for (int round = 0; round < 3; round++)
        {
            foreach (string dir in files)
            {
                var t0 = Stopwatch.GetTimestamp();
                _ = PeftAdapter.Inspect(dir, config, load);
                inspect.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                t0 = Stopwatch.GetTimestamp();
                PreparedAdapter.Load(dir, config, dtype, load).Release();
                direct.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                t0 = Stopwatch.GetTimestamp();
                using (var peft = PeftAdapter.Load(dir, config, load))
                    PreparedAdapter.From(peft, dtype).Release();
                twoStep.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
        }
        return
        [
            new("inspect_ms_p50", Math.Round(Percentile(inspect, 0.5), 2)),
            new("prepared_load_ms_p50", Math.Round(Percentile(direct, 0.5), 2)),
            new("prepared_load_ms_p99", Math.Round(Percentile(direct, 0.99), 2)),
            new("peft_load_then_prepare_ms_p50", Math.Round(Percentile(twoStep, 0.5), 2)),
            new("peft_load_then_prepare_ms_p99", Math.Round(Percentile(twoStep, 0.99), 2)),
        ];
    }

    private static double Percentile(List<double> samples, double p)
    {
        var sorted = samples.Order().ToArray();
        return sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(sorted.Length * p) - 1)];
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
