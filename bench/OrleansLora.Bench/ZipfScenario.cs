using System.Diagnostics;
using System.Text.Json.Nodes;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Sampling;

namespace OrleansLora.Bench;

/// <summary>
/// Issue 4's scenario 5 through the engine: many registered adapters, fewer slots, closed-loop
/// clients whose requests pick adapters from a Zipf distribution; beside it, in the same run,
/// the same engine and load with each client on its own adapter (scenario 3 end to end). Reports
/// tokens/s, the slot hit rate, and cold (disk → slot) and warm (host → slot) load times.
/// </summary>
internal static class ZipfScenario
{
    private const int Clients = 32;
    private const double ZipfExponent = 1.0;

    public static void Run(BenchReport report, BenchOptions options, string modelDir, int maxLen)
    {
        var config = ModelConfig.Load(modelDir);
        maxLen = Math.Max(maxLen, options.ZipfPromptTokens + options.NewTokens + 1);
        // Ids map onto a smaller set of distinct files (each file ~9 MB at rank 16 on the small
        // preset); every id is still its own adapter to the engine: own slot, own cache entry.
        string[] files = Enumerable.Range(0, options.ZipfFiles).Select(i => MultiAdapterScenario.AdapterDirectory(options, config, i)).ToArray();
        double fixedTps = RunEngine(report, options, modelDir, maxLen, $"engine-adapters-{Clients}-b{Clients}", Clients, files, (client, _, _) => client);

        var cdf = ZipfCdf(options.ZipfAdapters, ZipfExponent);
        var shuffle = new Random(7);
        var permutation = Enumerable.Range(0, options.ZipfAdapters).OrderBy(_ => shuffle.Next()).ToArray(); // popular ids are not the low ones
        string zipf = $"zipf-{options.ZipfAdapters}x{options.ZipfSlots}";
        double zipfTps = RunEngine(report, options, modelDir, maxLen, zipf, options.ZipfAdapters, files,
            (_, _, rng) => permutation[Sample(cdf, rng.NextDouble())]);
        MultiAdapterScenario.Ratio(report, $"ratio:{zipf}/engine-adapters-{Clients}-b{Clients}", zipfTps / fixedTps);
        AdapterLoadScenario.Run(report, options, modelDir, files);
    }

    private static double RunEngine(BenchReport report, BenchOptions options, string modelDir, int maxLen, string scenario, int registered, string[] files, Func<int, int, Random, int> adapterOf)
    {
        using var engine = InferenceEngine.Create(new InferenceEngineOptions
        {
            ModelPath = modelDir,
            Dtype = options.Dtype,
            MaxBatchSize = Clients,
            MaxBatchTokens = 512,
            MaxSequenceLength = maxLen,
            KvCacheBytes = long.MaxValue / 4,
            MaxLoras = options.ZipfSlots,
            MaxCpuLoras = options.ZipfHostCache,
            MaxLoraRank = MultiAdapterScenario.Rank,
        });
        var registerStarted = Stopwatch.GetTimestamp();
        for (int i = 0; i < registered; i++)
            engine.RegisterAdapter($"adapter-{i}", files[i % files.Length]);
        double registerMs = Stopwatch.GetElapsedTime(registerStarted).TotalMilliseconds;

        var sampling = new SamplingParams { Temperature = 0.8f, TopP = 0.95f, Seed = 1, MaxNewTokens = options.NewTokens, IgnoreEos = true };
        // A warm-up round (not timed) fills the slots, so the timed rounds see the steady state
        // rather than the first cold load of every popular adapter.
        RunClients(engine, options, sampling, 0, options.ZipfWarmupRequests, adapterOf);
        var before = engine.Statistics;
        var t0 = Stopwatch.GetTimestamp();
        int tokens = RunClients(engine, options, sampling, options.ZipfWarmupRequests, options.ZipfRequestsPerClient, adapterOf);
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        var stats = engine.Statistics;
        double tps = tokens / seconds;
        report.Add(scenario, new Dictionary<string, JsonNode?>
        {
            ["model"] = options.Preset,
            ["quantization"] = "none",
            ["dtype"] = options.Dtype,
            ["batch"] = Clients,
            ["adapters"] = registered,
            ["adapter_files"] = Math.Min(registered, files.Length),
            ["slots"] = options.ZipfSlots,
            ["host_cache"] = options.ZipfHostCache,
            ["rank"] = MultiAdapterScenario.Rank,
            ["requests"] = Clients * options.ZipfRequestsPerClient,
            ["prompt_tokens"] = options.ZipfPromptTokens,
            ["new_tokens"] = options.NewTokens,
            ["tokens_per_s"] = Math.Round(tps, 1),
            ["warmup_requests"] = Clients * options.ZipfWarmupRequests,
            ["hit_rate"] = Math.Round((double)(stats.AdapterHits - before.AdapterHits) / Math.Max(1, stats.AdapterHits - before.AdapterHits + stats.AdapterLoads - before.AdapterLoads), 3),
            ["slot_loads"] = stats.AdapterLoads - before.AdapterLoads,
            ["slot_evictions"] = stats.AdapterEvictions - before.AdapterEvictions,
            ["host_hits"] = stats.HostCacheHits - before.HostCacheHits,
            ["host_misses"] = stats.HostCacheMisses - before.HostCacheMisses,
            ["register_ms"] = Math.Round(registerMs, 1),
        }.Concat(AdapterLoadScenario.LoadTimes(stats)));
        return tps;
    }

    /// <summary>Closed loop: each client sends its requests one after another; returns the tokens generated.</summary>
    private static int RunClients(InferenceEngine engine, BenchOptions options, SamplingParams sampling, int first, int count, Func<int, int, Random, int> adapterOf)
    {
        var clients = Enumerable.Range(0, Clients).Select(async client =>
        {
            var rng = new Random(100 * (first + 1) + client);
            int generated = 0;
            for (int r = first; r < first + count; r++)
            {
                int[] prompt = Enumerable.Range(0, options.ZipfPromptTokens).Select(_ => rng.Next(0, 50000)).ToArray();
                var request = new GenerationRequest { PromptTokens = prompt, Sampling = sampling, AdapterId = $"adapter-{adapterOf(client, r, rng)}" };
                await foreach (var chunk in engine.GenerateAsync(request))
                    generated += chunk.TokenIds.Count;
            }
            return generated;
        }).ToArray();
        return Task.WhenAll(clients).GetAwaiter().GetResult().Sum();
    }

    private static double[] ZipfCdf(int n, double s)
    {
        var cdf = new double[n];
        double sum = 0;
        for (int k = 0; k < n; k++)
            cdf[k] = sum += 1 / Math.Pow(k + 1, s);
        for (int k = 0; k < n; k++)
            cdf[k] /= sum;
        return cdf;
    }

    private static int Sample(double[] cdf, double u)
    {
        int i = Array.BinarySearch(cdf, u);
        return Math.Min(i < 0 ? ~i : i, cdf.Length - 1);
    }
}
