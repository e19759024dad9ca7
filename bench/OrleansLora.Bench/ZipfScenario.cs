using System.Diagnostics;
using System.Text.Json.Nodes;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Sampling;

namespace OrleansLora.Bench;

/// <summary>
/// Issue 4's scenario 5 through the engine: many registered adapters, fewer slots, closed-loop
/// clients whose requests pick adapters from a Zipf distribution; beside it, in the same run,
/// the same engine and load with each client on its own adapter (scenario 3 end to end), the two
/// timed in alternating rounds. Reports tokens/s, the slot hit rate, host-cache hits and misses,
/// slot loads, how full the batch stayed, and cold (disk → slot) and warm (host → slot) load times.
/// </summary>
internal static class ZipfScenario
{
    internal const int Clients = 32;
    private const double ZipfExponent = 1.0;

    public static void Run(BenchReport report, BenchOptions options, string modelDir, int maxLen)
    {
        var config = ModelConfig.Load(modelDir);
        maxLen = Math.Max(maxLen, options.ZipfPromptTokens + options.NewTokens + 1);
        // Ids map onto a smaller set of distinct files (each file ~9 MB at rank 16 on the small
        // preset); every id is still its own adapter to the engine: own slot, own cache entry.
        string[] files = Enumerable.Range(0, options.ZipfFiles).Select(i => MultiAdapterScenario.AdapterDirectory(options, config, i)).ToArray();
        var cdf = ZipfCdf(options.ZipfAdapters, ZipfExponent);
        var shuffle = new Random(7);
        var permutation = Enumerable.Range(0, options.ZipfAdapters).OrderBy(_ => shuffle.Next()).ToArray(); // popular ids are not the low ones
        string fixedName = $"engine-adapters-{Clients}-b{Clients}", zipf = $"zipf-{options.ZipfAdapters}x{options.ZipfSlots}";

        // Both engines stay up and their timed requests run in alternating rounds, so a change in
        // the machine's load hits both alike (the ratio is what the target is stated in).
        using var fixedRun = new EngineRun(options, modelDir, maxLen, Clients, files, (client, _, _) => client);
        using var zipfRun = new EngineRun(options, modelDir, maxLen, options.ZipfAdapters, files, (_, _, rng) => permutation[Sample(cdf, rng.NextDouble())]);
        int requests = Alternate(options, fixedRun, zipfRun);
        double fixedTps = fixedRun.Report(report, fixedName, requests);
        double zipfTps = zipfRun.Report(report, zipf, requests);
        MultiAdapterScenario.Ratio(report, $"ratio:{zipf}/{fixedName}", zipfTps / fixedTps);
    }

    /// <summary>
    /// Times <paramref name="runs"/> in alternating rounds (up to four) of <c>--zipf-requests</c> requests per client in
    /// all, so a change in the machine's load hits each alike; returns the timed requests per client.
    /// </summary>
    internal static int Alternate(BenchOptions options, params EngineRun[] runs)
    {
        int rounds = Math.Max(1, Math.Min(4, options.ZipfRequestsPerClient));
        int perRound = Math.Max(1, options.ZipfRequestsPerClient / rounds);
        for (int round = 0; round < rounds; round++)
        {
            foreach (var run in runs)
                run.Timed(options.ZipfWarmupRequests + round * perRound, perRound);
        }
        return rounds * perRound;
    }

    /// <summary>One engine of the comparison: registered adapters, a warm-up, then timed rounds.</summary>
    internal sealed class EngineRun : IDisposable
    {
        private readonly InferenceEngine _engine;
        private readonly BenchOptions _options;
        private readonly SamplingParams _sampling;
        private readonly Func<int, int, Random, int> _adapterOf;
        private readonly int _registered, _files;
        private readonly double _registerMs;
        private readonly EngineStatistics _before;
        private double _seconds;
        private int _tokens;

        public EngineRun(BenchOptions options, string modelDir, int maxLen, int registered, string[] files, Func<int, int, Random, int> adapterOf)
        {
            _options = options;
            _adapterOf = adapterOf;
            _registered = registered;
            _files = Math.Min(registered, files.Length);
            _sampling = new SamplingParams { Temperature = 0.8f, TopP = 0.95f, Seed = 1, MaxNewTokens = options.NewTokens, IgnoreEos = true };
            _engine = InferenceEngine.Create(new InferenceEngineOptions
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
                AdapterDtype = options.AdapterDtype,
            });
            var registerStarted = Stopwatch.GetTimestamp();
            for (int i = 0; i < registered; i++)
                _engine.RegisterAdapter($"adapter-{i}", files[i % files.Length]);
            _registerMs = Stopwatch.GetElapsedTime(registerStarted).TotalMilliseconds;
            // A warm-up (not timed) fills the slots and the host cache, so the timed rounds see the
            // steady state rather than the first cold load of every popular adapter.
            RunClients(_engine, options, _sampling, 0, options.ZipfWarmupRequests, adapterOf);
            _before = _engine.Statistics;
        }

        public void Timed(int first, int count)
        {
            var t0 = Stopwatch.GetTimestamp();
            _tokens += RunClients(_engine, _options, _sampling, first, count, _adapterOf);
            _seconds += Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }

        public double Report(BenchReport report, string scenario, int requestsPerClient)
        {
            var stats = _engine.Statistics;
            var before = _before;
            double tps = _tokens / _seconds;
            long hits = stats.AdapterHits - before.AdapterHits, loads = stats.AdapterLoads - before.AdapterLoads;
            report.Add(scenario, new Dictionary<string, JsonNode?>
            {
                ["model"] = _options.Preset,
                ["quantization"] = "none",
                ["dtype"] = _options.Dtype,
                ["adapter_dtype"] = _options.AdapterDtype,
                ["batch"] = Clients,
                ["adapters"] = _registered,
                ["adapter_files"] = _files,
                ["slots"] = _options.ZipfSlots,
                ["host_cache"] = _options.ZipfHostCache,
                ["rank"] = MultiAdapterScenario.Rank,
                ["requests"] = Clients * requestsPerClient,
                ["prompt_tokens"] = _options.ZipfPromptTokens,
                ["new_tokens"] = _options.NewTokens,
                ["tokens_per_s"] = Math.Round(tps, 1),
                ["warmup_requests"] = Clients * _options.ZipfWarmupRequests,
                // Tokens generated per step: how full the batch stayed while requests waited for loads.
                ["generated_tokens_per_step"] = Math.Round((double)(stats.GeneratedTokens - before.GeneratedTokens) / Math.Max(1, stats.Steps - before.Steps), 2),
                ["hit_rate"] = Math.Round((double)hits / Math.Max(1, hits + loads), 3),
                ["slot_loads"] = loads,
                ["slot_evictions"] = stats.AdapterEvictions - before.AdapterEvictions,
                ["host_hits"] = stats.HostCacheHits - before.HostCacheHits,
                ["host_misses"] = stats.HostCacheMisses - before.HostCacheMisses,
                ["register_ms"] = Math.Round(_registerMs, 1),
            }.Concat(AdapterLoadScenario.LoadTimes(stats)));
            return tps;
        }

        public void Dispose() => _engine.Dispose();
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
