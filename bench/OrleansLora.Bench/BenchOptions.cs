using System.Globalization;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Quantization;

namespace OrleansLora.Bench;

/// <summary>Command line of the benchmark: <c>--json FILE --model DIR --preset small --batches 1,8,32 ...</c>.</summary>
internal sealed record BenchOptions
{
    public string? JsonPath { get; init; }
    public string? ModelPath { get; init; }
    public string Preset { get; init; } = "small";
    public string Dtype { get; init; } = "float32";
    public int[] Batches { get; init; } = [1, 8, 32];
    public QuantizationMode[] Quantizations { get; init; } = [QuantizationMode.None, QuantizationMode.Int8, QuantizationMode.Nf4];

    /// <summary>Arithmetic of the quantized layers in the decode scenario; several run side by side (bfloat16,float32).</summary>
    public QuantizedCompute[] QuantizedComputes { get; init; } = [QuantizedCompute.BFloat16];
    public int PromptTokens { get; init; } = 128;
    public int NewTokens { get; init; } = 32;
    public int Threads { get; init; }
    /// <summary>The decode scenario's warm-up ends once the JIT has compiled nothing for this long (0: no warm-up beyond 16 steps).</summary>
    public int WarmupQuietMs { get; init; } = 500;
    /// <summary>The engine scenarios' KV block size (the engine's KvBlockSize; 0: fixed slots), to compare the two caches.</summary>
    public int KvBlockSize { get; init; } = new InferenceEngineOptions().KvBlockSize;
    /// <summary>Distinct rank-16 adapters in the multi-adapter scenario (0 skips it).</summary>
    public int Adapters { get; init; } = 32;
    /// <summary>Registered adapters in the Zipf scenario (0 skips it and its fixed-adapter companion).</summary>
    public int ZipfAdapters { get; init; } = 1000;
    public int ZipfSlots { get; init; } = 64;
    public int ZipfHostCache { get; init; } = 256;
    /// <summary>Distinct adapter files the Zipf ids are spread over (disk space: ~9 MB each on the small preset).</summary>
    public int ZipfFiles { get; init; } = 64;
    /// <summary>Timed requests per client: enough that the steady state, not the first touch of each popular adapter, is measured.</summary>
    public int ZipfRequestsPerClient { get; init; } = 8;
    /// <summary>Untimed requests per client before the timed ones (they fill the slots and the host cache).</summary>
    public int ZipfWarmupRequests { get; init; } = 4;
    public int ZipfPromptTokens { get; init; } = 32;
    /// <summary>Adapter table dtype of the multi-adapter, Zipf and load scenarios (the engine's AdapterDtype).</summary>
    public string AdapterDtype { get; init; } = new InferenceEngineOptions().AdapterDtype;
    /// <summary>Scenario groups to run: decode (prefill/decode of the base), adapters (1-4), zipf (5 and its fixed companion), load, engine, overhead, templates (chat template parse and render), structured (JSON Schema constrained ÷ free decode, grammar compile), kv (prefix caching TTFT, mixed-length concurrency paged ÷ slots), mix (32 clients on 32 distinct adapters ÷ on one, through the engine).</summary>
    public IReadOnlySet<string> Scenarios { get; init; } = new HashSet<string>(AllScenarios, StringComparer.Ordinal);

    public static IReadOnlyList<string> AllScenarios { get; } = ["decode", "adapters", "zipf", "load", "engine", "overhead", "templates", "structured", "logprobs", "samples", "kv", "turn", "mix"];

    public bool Runs(string scenario) => Scenarios.Contains(scenario);

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture);
            o = args[i] switch
            {
                "--json" => o with { JsonPath = Next() },
                "--model" => o with { ModelPath = Next() },
                "--preset" => o with { Preset = Next() },
                "--dtype" => o with { Dtype = Next() },
                "--batches" => o with { Batches = Next().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() },
                "--quantized-compute" => o with { QuantizedComputes = Next().Split(',').Select(q => Enum.Parse<QuantizedCompute>(q, ignoreCase: true)).ToArray() },
                "--quantization" => o with { Quantizations = Next().Split(',').Select(q => Enum.Parse<QuantizationMode>(q, ignoreCase: true)).ToArray() },
                "--prompt-tokens" => o with { PromptTokens = NextInt() },
                "--new-tokens" => o with { NewTokens = NextInt() },
                "--threads" => o with { Threads = NextInt() },
                "--warmup-quiet-ms" => o with { WarmupQuietMs = NextInt() },
                "--kv-block-size" => o with { KvBlockSize = NextInt() },
                "--adapters" => o with { Adapters = NextInt() },
                "--zipf-adapters" => o with { ZipfAdapters = NextInt() },
                "--zipf-slots" => o with { ZipfSlots = NextInt() },
                "--zipf-host-cache" => o with { ZipfHostCache = NextInt() },
                "--zipf-files" => o with { ZipfFiles = NextInt() },
                "--zipf-requests" => o with { ZipfRequestsPerClient = NextInt() },
                "--zipf-warmup" => o with { ZipfWarmupRequests = NextInt() },
                "--zipf-prompt-tokens" => o with { ZipfPromptTokens = NextInt() },
                "--adapter-dtype" => o with { AdapterDtype = Next() },
                "--scenarios" => o with { Scenarios = ParseScenarios(Next()) },
                _ => throw new ArgumentException($"unknown option {args[i]}; options: --json FILE --model DIR --preset NAME --dtype T --batches 1,8,32 --quantization none,int8,nf4 --prompt-tokens N --new-tokens N --threads N --warmup-quiet-ms N --kv-block-size N --adapters N --zipf-adapters N --zipf-slots N --zipf-host-cache N --zipf-files N --zipf-requests N --zipf-warmup N --zipf-prompt-tokens N --adapter-dtype T --scenarios decode,adapters,zipf,load,engine,overhead,templates,structured,logprobs,samples,kv,turn,mix"),
            };
        }
        return o;
    }

    private static HashSet<string> ParseScenarios(string list)
    {
        var set = new HashSet<string>(list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.Ordinal);
        if (set.FirstOrDefault(s => !AllScenarios.Contains(s)) is { } unknown)
            throw new ArgumentException($"unknown scenario \"{unknown}\"; scenarios: {string.Join(", ", AllScenarios)}.");
        return set;
    }
}
