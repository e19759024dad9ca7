using System.Diagnostics;
using System.Text.Json.Nodes;
using OrleansLora.Engine.Constraints;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Sampling;

namespace OrleansLora.Bench;

/// <summary>
/// Issue 16's benchmark: tokens/s of 32 sequences constrained to a 10-field JSON Schema ÷ 32 free ones
/// at batch 32 through the engine, and the one-time compile of that schema on the preset's vocabulary
/// (GPT-2's 50k tokens for tiny/small). Rounds alternate free and constrained after a warm-up round of
/// each (JIT, and the grammar's per-state masks, which later requests with the same schema reuse).
/// </summary>
internal static class StructuredOutputScenario
{
    public const string TenFieldSchema = """
        {"type":"object","properties":{
           "id":{"type":"integer"},"name":{"type":"string"},"email":{"type":"string"},"age":{"type":"integer","minimum":0,"maximum":120},
           "active":{"type":"boolean"},"score":{"type":"number"},"country":{"type":"string","enum":["US","DE","FR","JP"]},
           "tags":{"type":"array","items":{"type":"string"},"maxItems":4},"created":{"type":"string","format":"date"},"note":{"type":["string","null"]}},
         "required":["id","name","email","age","active","score","country","tags","created","note"],"additionalProperties":false}
        """;

    private const int Compiles = 20;
    private const int Rounds = 3;
    private const int MaskSteps = 4000;

    public static void Run(BenchReport report, BenchOptions options, string modelDir, int maxLen)
    {
        int batch = options.Batches.Max();
        using var engine = InferenceEngine.Create(new InferenceEngineOptions
        {
            ModelPath = modelDir,
            Dtype = options.Dtype,
            MaxBatchSize = batch,
            MaxBatchTokens = Math.Max(batch, 512),
            MaxSequenceLength = maxLen,
            KvCacheBytes = long.MaxValue / 4,
        });
        var tokenizer = engine.Tokenizer;

        // One-time costs: the vocabulary trie (once per tokenizer), then the schema (once per schema).
        var t0 = Stopwatch.GetTimestamp();
        var cache = TokenGrammarCache.For(tokenizer);
        double vocabularyMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        var compileMs = new List<double>();
        for (int i = 0; i < Compiles; i++)
        {
            // A different text each time (trailing blanks) misses the cache, so each is a full compile.
            var spec = GrammarSpec.JsonSchema(TenFieldSchema + new string(' ', i + 1));
            t0 = Stopwatch.GetTimestamp();
            cache.Get(spec);
            compileMs.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        compileMs.Sort();
        var grammarSpec = GrammarSpec.JsonSchema(TenFieldSchema);
        var grammar = cache.Get(grammarSpec);
        t0 = Stopwatch.GetTimestamp();
        grammar.WarmAll();
        double allMasksMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        var common = new Dictionary<string, JsonNode?>
        {
            ["model"] = options.Preset,
            ["vocabulary"] = tokenizer.VocabularySize,
            ["fields"] = 10,
            ["automaton_states"] = grammar.StateCount,
        };
        report.Add("grammar-compile-10-fields", With(common,
            ("compile_ms_p50", Math.Round(compileMs[compileMs.Count / 2], 2)),
            ("compile_ms_max", Math.Round(compileMs[^1], 2)),
            ("vocabulary_trie_ms", Math.Round(vocabularyMs, 1)),
            ("all_state_masks_ms", Math.Round(allMasksMs, 1))));

        // Fresh grammar instance for the throughput rounds, so the warm-up round (not WarmAll) fills its masks.
        var runSpec = GrammarSpec.JsonSchema(TenFieldSchema + "\n");
        var free = new List<double>();
        var constrained = new List<double>();
        var constrainedTokens = new List<double>();
        for (int round = 0; round <= Rounds; round++)
        {
            // The order alternates so that drift in the machine's load does not favour one side.
            bool freeFirst = round % 2 == 0;
            var (freeTps, _) = freeFirst ? Measure(engine, options, batch, maxLen, null) : default;
            var (constrainedTps, perSequence) = Measure(engine, options, batch, maxLen, runSpec);
            if (!freeFirst)
                (freeTps, _) = Measure(engine, options, batch, maxLen, null);
            if (round == 0)
                continue; // warm-up
            free.Add(freeTps);
            constrained.Add(constrainedTps);
            constrainedTokens.Add(perSequence);
        }
        var parameters = With(common, ("batch", batch), ("prompt_tokens", options.PromptTokens), ("new_tokens", options.NewTokens), ("quantization", "none"));
        free.Sort();
        constrained.Sort();
        double freeMedian = free[free.Count / 2], constrainedMedian = constrained[constrained.Count / 2];
        report.Add($"structured-free-b{batch}", With(parameters, ("tokens_per_s", Math.Round(freeMedian, 1)), ("tokens_per_s_rounds", Rounded(free))));
        report.Add($"structured-json-schema-b{batch}", With(parameters, ("tokens_per_s", Math.Round(constrainedMedian, 1)), ("tokens_per_s_rounds", Rounded(constrained)),
            ("tokens_per_sequence", Math.Round(constrainedTokens.Average(), 1)), ("mask_us_per_token", Math.Round(MaskMicroseconds(grammar, tokenizer.VocabularySize), 1))));
        report.Add($"ratio:structured-json-schema-b{batch}/structured-free-b{batch}", new Dictionary<string, JsonNode?> { ["ratio"] = Math.Round(constrainedMedian / freeMedian, 3) });
    }

    private static JsonArray Rounded(List<double> values) => new([.. values.Select(v => (JsonNode?)Math.Round(v, 1))]);

    /// <summary>
    /// The grammar's own cost per generated token (mask a vocabulary-wide row, then follow the token) on warm
    /// masks, with random logits: what a constrained sequence adds to a step, apart from the model.
    /// </summary>
    private static double MaskMicroseconds(TokenGrammar grammar, int vocabulary)
    {
        var rng = new Random(11);
        var logits = new float[vocabulary];
        var processor = new GrammarLogitsProcessor(grammar, 64);
        double total = 0;
        for (int step = 0; step < MaskSteps; step++)
        {
            if (processor.IsFinished)
                processor = new GrammarLogitsProcessor(grammar, 64);
            for (int i = 0; i < logits.Length; i++)
                logits[i] = (float)rng.NextDouble();
            var t0 = Stopwatch.GetTimestamp();
            processor.Process(logits);
            total += Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            int best = 0; // the choice itself (the sampler's work, free sequences pay it too) is not timed
            for (int i = 1; i < logits.Length; i++)
            {
                if (logits[i] > logits[best])
                    best = i;
            }
            t0 = Stopwatch.GetTimestamp();
            processor.Accept(best);
            total += Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        }
        return total / MaskSteps;
    }

    /// <summary>One batch of sequences generated together; tokens/s over the whole batch, and tokens per sequence.</summary>
    private static (double TokensPerSecond, double TokensPerSequence) Measure(InferenceEngine engine, BenchOptions options, int batch, int maxLen, GrammarSpec? spec)
    {
        var rng = new Random(5);
        var cache = TokenGrammarCache.For(engine.Tokenizer);
        var t0 = Stopwatch.GetTimestamp();
        var tasks = Enumerable.Range(0, batch).Select(async i =>
        {
            int[] prompt = Enumerable.Range(0, options.PromptTokens).Select(_ => rng.Next(0, 50000)).ToArray();
            var request = new GenerationRequest
            {
                PromptTokens = prompt,
                // Free sequences ignore EOS so both sides run to about new_tokens (a constrained one stops only
                // when its JSON is complete, which its token budget brings about near the end).
                Sampling = new SamplingParams { Temperature = 1f, Seed = (ulong)(i + 1), MaxNewTokens = options.NewTokens, IgnoreEos = spec is null },
                LogitsProcessor = spec is null ? null : cache.CreateProcessor(spec, options.NewTokens),
            };
            int n = 0;
            await foreach (var chunk in engine.GenerateAsync(request))
                n += chunk.TokenIds.Count;
            return n;
        }).ToArray();
        int[] counts = Task.WhenAll(tasks).GetAwaiter().GetResult();
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        return (counts.Sum() / seconds, counts.Average());
    }

    private static Dictionary<string, JsonNode?> With(Dictionary<string, JsonNode?> common, params (string Key, JsonNode? Value)[] more)
    {
        var d = new Dictionary<string, JsonNode?>(common.Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone())));
        foreach (var (k, v) in more)
            d[k] = v;
        return d;
    }
}
