using System.Diagnostics;
using System.Text.Json.Nodes;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.ModelInit;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Sampling;

namespace OrleansLora.Bench;

/// <summary>
/// Issue 18's KV scenarios through the engine. (1) 32 chat requests that share a 1,000-token system
/// prompt, each on its own rank-16 adapter: after one earlier request per adapter (a previous chat
/// turn; only the same adapter may share blocks), the TTFT p50 of 32 concurrent new requests with
/// prefix caching ÷ without. (2) At one KV budget, requests of mixed lengths
/// (32-2,048 tokens): the most sequences running at once with paged blocks ÷ with fixed slots of the
/// full context. (3), the "turn" scenario: a second chat turn appending 32 tokens to a 1,000-token
/// conversation, its TTFT ÷ the first turn's.
/// </summary>
internal static class PagedKvScenario
{
    private const int Requests = 32;
    private const int SystemTokens = 1000;
    private const int UserTokens = 24;

    public static void Run(BenchReport report, BenchOptions options, string modelDir)
    {
        var config = ModelConfig.Load(modelDir);
        var rng = new Random(5);
        int[] system = Enumerable.Range(0, SystemTokens).Select(_ => rng.Next(0, 50000)).ToArray();
        string[] files = Enumerable.Range(0, Requests).Select(i => MultiAdapterScenario.AdapterDirectory(options, config, i)).ToArray();
        int newTokens = Math.Min(options.NewTokens, 16);
        int maxLen = SystemTokens + 2 * UserTokens + 2 * newTokens + 1;
        var ttft = new Dictionary<bool, double>();
        long secondHits = 0, secondLookups = 0; // the second turns' own prefix-cache counts (turns run one at a time)
        // Alternating rounds (off, on, off, on): a change in the machine's load hits both alike.
        var samples = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
        foreach (bool caching in new[] { false, true, false, true })
        {
            using var engine = InferenceEngine.Create(new InferenceEngineOptions
            {
                ModelPath = modelDir,
                Dtype = options.Dtype,
                MaxBatchSize = Requests,
                MaxBatchTokens = 512,
                MaxSequenceLength = maxLen,
                KvCacheBytes = long.MaxValue / 4,
                PrefixCaching = caching,
                MaxLoras = Requests,
                MaxLoraRank = MultiAdapterScenario.Rank,
                AdapterDtype = options.AdapterDtype,
            });
            for (int i = 0; i < Requests; i++)
                engine.RegisterAdapter($"adapter-{i}", files[i]);
            var sampling = SamplingParams.Greedy with { MaxNewTokens = newTokens, IgnoreEos = true };
            // The earlier turn: one request per adapter (loads the adapters, caches the system prompt).
            RunRound(engine, system, rng, sampling);
            samples[caching].AddRange(RunRound(engine, system, rng, sampling));
        }
        foreach (bool caching in new[] { false, true })
        {
            var list = samples[caching];
            list.Sort();
            ttft[caching] = list[list.Count / 2];
            report.Add($"prefix-chat-{Requests}x{SystemTokens}-{(caching ? "cached" : "uncached")}", new Dictionary<string, JsonNode?>
            {
                ["model"] = options.Preset,
                ["adapters"] = Requests,
                ["rank"] = MultiAdapterScenario.Rank,
                ["prompt_tokens"] = SystemTokens + UserTokens,
                ["new_tokens"] = newTokens,
                ["prefix_caching"] = caching,
                ["ttft_ms_p50"] = Math.Round(ttft[caching], 1),
                ["ttft_ms_p99"] = Math.Round(list[^1], 1),
                ["second_turn_hit_rate"] = caching && secondLookups > 0 ? Math.Round((double)secondHits / secondLookups, 3) : 0,
            });
        }
        MultiAdapterScenario.Ratio(report, $"ratio:prefix-chat-{Requests}x{SystemTokens}-cached/uncached", ttft[true] / ttft[false]);
        MixedLengths(report);
    }

    /// <summary>
    /// One conversation at a time on one rank-16 adapter: a first turn of 968 prompt tokens and a 32-token
    /// reply (a 1,000-token conversation), then a second turn of that conversation plus 32 new user tokens.
    /// The TTFT p50 of second turns ÷ that of first turns, with prefix caching and, for reference, without
    /// (then the second turn prefills all 1,032 tokens). Engines alternate (on, off, on, off).
    /// </summary>
    public static void RunSecondTurn(BenchReport report, BenchOptions options, string modelDir)
    {
        string adapterFile = MultiAdapterScenario.AdapterDirectory(options, ModelConfig.Load(modelDir), 0);
        const int conversation = 1000, reply = 32, appended = 32, perEngine = 3;
        var rng = new Random(11);
        var samples = new Dictionary<bool, (List<double> First, List<double> Second)> { [true] = ([], []), [false] = ([], []) };
        long secondHits = 0, secondLookups = 0; // the second turns' own prefix-cache counts (turns run one at a time)
        foreach (bool caching in new[] { true, false, true, false })
        {
            using var engine = InferenceEngine.Create(new InferenceEngineOptions
            {
                ModelPath = modelDir,
                Dtype = options.Dtype,
                MaxBatchSize = 1,
                MaxBatchTokens = 512,
                MaxSequenceLength = conversation + appended + reply,
                KvCacheBytes = long.MaxValue / 4,
                PrefixCaching = caching,
                MaxLoras = 1,
                MaxLoraRank = MultiAdapterScenario.Rank,
                AdapterDtype = options.AdapterDtype,
            });
            engine.RegisterAdapter("adapter-0", adapterFile);
            // Loads the adapter and warms the step path; a prompt unlike the measured ones, so nothing is reused.
            Turn(engine, [.. Enumerable.Range(0, 64).Select(_ => rng.Next(0, 50000))], 4);
            for (int i = 0; i < perEngine; i++)
            {
                int[] prompt = [.. Enumerable.Range(0, conversation - reply).Select(_ => rng.Next(0, 50000))];
                var (first, tokens) = Turn(engine, prompt, reply);
                int[] next = [.. prompt, .. tokens, .. Enumerable.Range(0, appended).Select(_ => rng.Next(0, 50000))];
                var before = engine.Statistics;
                var (second, _) = Turn(engine, next, 8);
                var after = engine.Statistics;
                if (caching)
                {
                    secondHits += after.PrefixHitTokens - before.PrefixHitTokens;
                    secondLookups += after.PrefixLookupTokens - before.PrefixLookupTokens;
                }
                samples[caching].First.Add(first);
                samples[caching].Second.Add(second);
            }
        }
        static double Median(List<double> list) => list.Order().ElementAt(list.Count / 2);
        foreach (bool caching in new[] { true, false })
        {
            var (first, second) = samples[caching];
            report.Add($"second-turn-{(caching ? "cached" : "uncached")}", new Dictionary<string, JsonNode?>
            {
                ["model"] = options.Preset,
                ["rank"] = MultiAdapterScenario.Rank,
                ["conversation_tokens"] = conversation,
                ["appended_tokens"] = appended,
                ["prefix_caching"] = caching,
                ["first_turn_ttft_ms_p50"] = Math.Round(Median(first), 1),
                ["second_turn_ttft_ms_p50"] = Math.Round(Median(second), 1),
                ["conversations"] = first.Count,
                ["second_turn_hit_rate"] = caching && secondLookups > 0 ? Math.Round((double)secondHits / secondLookups, 3) : 0,
            });
            MultiAdapterScenario.Ratio(report, $"ratio:second-turn-{(caching ? "cached" : "uncached")}/first-turn", Median(second) / Median(first));
        }
    }

    /// <summary>One request on adapter-0, alone on the engine: its TTFT in ms and its generated tokens.</summary>
    private static (double TtftMs, int[] Tokens) Turn(InferenceEngine engine, int[] prompt, int newTokens)
    {
        var sampling = SamplingParams.Greedy with { MaxNewTokens = newTokens, IgnoreEos = true };
        var tokens = new List<int>();
        double first = -1;
        var t0 = Stopwatch.GetTimestamp();
        var run = Task.Run(async () =>
        {
            await foreach (var chunk in engine.GenerateAsync(new GenerationRequest { PromptTokens = prompt, AdapterId = "adapter-0", Sampling = sampling }))
            {
                if (first < 0 && chunk.TokenIds.Count > 0)
                    first = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                tokens.AddRange(chunk.TokenIds);
            }
        });
        run.GetAwaiter().GetResult();
        return (first, [.. tokens]);
    }

    /// <summary>Each adapter's request: the system prompt, then its own user tokens; returns the TTFTs in ms.</summary>
    private static List<double> RunRound(InferenceEngine engine, int[] system, Random rng, SamplingParams sampling)
    {
        var prompts = Enumerable.Range(0, Requests)
            .Select(i => (int[])[.. system, .. Enumerable.Range(0, UserTokens).Select(_ => rng.Next(0, 50000))])
            .ToArray();
        var t0 = Stopwatch.GetTimestamp();
        var tasks = prompts.Select(async (prompt, i) =>
        {
            double first = -1;
            await foreach (var _ in engine.GenerateAsync(new GenerationRequest { PromptTokens = prompt, AdapterId = $"adapter-{i}", Sampling = sampling }))
            {
                if (first < 0)
                    first = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            }
            return first;
        }).ToArray();
        return [.. Task.WhenAll(tasks).GetAwaiter().GetResult()];
    }

    /// <summary>
    /// 96 requests of 32-2,048 tokens (prompt + 8 generated; uniform in log length) on a tiny model with
    /// a 4,096-position context, at a budget of 8 full-length slots: peak running sequences, paged ÷ slots.
    /// </summary>
    private static void MixedLengths(BenchReport report)
    {
        const int maxLen = 4096, slotsWorth = 8, count = 96, newTokens = 8;
        string dir = Path.Combine("artifacts", "models", "tiny-ctx4096");
        var config = ModelPresets.Tiny with { MaxPositionEmbeddings = maxLen };
        if (!File.Exists(Path.Combine(dir, "config.json")))
            RandomModelWriter.Write(config, dir, seed: 42);
        long bytesPerPosition = 2L * config.NumHiddenLayers * config.NumKeyValueHeads * config.HeadDim * 4;
        long budget = slotsWorth * maxLen * bytesPerPosition;
        var rng = new Random(9);
        int[] lengths = Enumerable.Range(0, count).Select(_ => (int)Math.Round(Math.Exp(Math.Log(32) + rng.NextDouble() * (Math.Log(2048) - Math.Log(32))))).ToArray();
        var peak = new Dictionary<int, int>();
        foreach (int blockSize in new[] { 0, 16 })
        {
            using var engine = InferenceEngine.Create(new InferenceEngineOptions
            {
                ModelPath = dir,
                MaxBatchSize = count,
                MaxBatchTokens = 4096,
                MaxSequenceLength = maxLen,
                KvCacheBytes = budget,
                KvBlockSize = blockSize,
                PrefixCaching = false,
                MaxLoras = 0,
            });
            var sampling = SamplingParams.Greedy with { MaxNewTokens = newTokens, IgnoreEos = true };
            int most = 0;
            using var done = new CancellationTokenSource();
            var watcher = Task.Run(async () =>
            {
                while (!done.IsCancellationRequested)
                {
                    most = Math.Max(most, engine.Statistics.RunningSequences);
                    await Task.Delay(2);
                }
            });
            var tasks = lengths.Select(async (length, i) =>
            {
                var r = new Random(i);
                int[] prompt = Enumerable.Range(0, length - newTokens).Select(_ => r.Next(0, 50000)).ToArray();
                await foreach (var _ in engine.GenerateAsync(new GenerationRequest { PromptTokens = prompt, Sampling = sampling }))
                {
                }
            }).ToArray();
            Task.WhenAll(tasks).GetAwaiter().GetResult();
            done.Cancel();
            watcher.GetAwaiter().GetResult();
            peak[blockSize] = most;
            report.Add($"mixed-lengths-{(blockSize == 0 ? "slots" : "paged")}", new Dictionary<string, JsonNode?>
            {
                ["model"] = "tiny-ctx4096",
                ["kv_budget_bytes"] = budget,
                ["kv_block_size"] = blockSize,
                ["requests"] = count,
                ["lengths"] = "32-2048 (log-uniform)",
                ["mean_length"] = Math.Round(lengths.Average(), 1),
                ["concurrent_sequences_peak"] = most,
                ["preemptions"] = engine.Statistics.Preemptions,
            });
        }
        MultiAdapterScenario.Ratio(report, "ratio:mixed-lengths-paged/slots", (double)peak[16] / Math.Max(1, peak[0]));
    }
}
