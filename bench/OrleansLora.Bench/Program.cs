using System.Diagnostics;
using System.Text.Json.Nodes;
using OrleansLora.Bench;
using OrleansLora.Engine.Caching;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.ModelInit;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Native;
using OrleansLora.Engine.Quantization;
using OrleansLora.Engine.Sampling;
using static TorchSharp.torch;

// Foundation benchmark: prefill and decode tokens/s of the base model at several batch sizes,
// next to the floor that memory bandwidth sets for a decode step, all measured in one run.
var options = BenchOptions.Parse(args);
NativeRuntime.EnsureInitialized();
if (options.Threads > 0)
    set_num_threads(options.Threads);

string modelDir = options.ModelPath ?? Path.Combine("artifacts", "models", options.Preset);
if (!File.Exists(Path.Combine(modelDir, "config.json")))
{
    Console.Error.WriteLine($"writing the {options.Preset} preset to {modelDir} ...");
    RandomModelWriter.Write(ModelPresets.Get(options.Preset), modelDir, seed: 42);
}

var report = new BenchReport();
report.Machine["cpu"] = MachineProbe.CpuModel();
report.Machine["cores_used"] = get_num_threads();
report.Machine["device"] = "cpu";
report.Machine["kernels_isa"] = OrleansLora.Engine.Native.NativeKernels.Isa;
report.Machine["bf16_gemv"] = OrleansLora.Engine.Native.NativeKernels.Bf16Gemv;
double readGbps = MachineProbe.ReadBandwidthGbps();
report.Machine["read_gbps"] = Math.Round(readGbps, 2);
report.Machine["gemm_gflops"] = Math.Round(MachineProbe.GemmGflops(), 1);
Console.WriteLine($"machine: {report.Machine.ToJsonString()}");

int maxLen = options.PromptTokens + options.NewTokens + 1;
var decodeTokensPerSecond = new Dictionary<string, double>();
var decodeRuns = options.Quantizations.SelectMany(q => q == QuantizationMode.None
    ? [(q, QuantizedCompute.Float32)]
    : options.QuantizedComputes.Select(c => (q, c))).ToList();
foreach (var (quantization, compute) in options.Runs("decode") ? decodeRuns : [])
using (var model = LlamaModel.Load(modelDir, new ModelLoadOptions { Dtype = options.Dtype, Quantization = quantization, QuantizedCompute = compute, MaxSequenceLength = maxLen }))
{
    // The default (bfloat16 compute) keeps the plain name; float32 and int8 compute are marked.
    string name = Name(quantization) + (quantization == QuantizationMode.None ? "" : compute switch
    {
        QuantizedCompute.Float32 => "-f32compute",
        QuantizedCompute.Int8 => "-i8compute",
        _ => "",
    });
    // Bytes a decode step must read: every linear layer's weights, lm_head included, and (per batch below) the KV
    // cache of every sequence's context (embedding rows and norms are small next to them).
    long weightBytes = model.LinearWeightBytes;

    var rng = new Random(1);
    foreach (int b in options.Batches)
    {
        // The engine's cache: paged blocks (sequence i owns blocks [i·n, (i+1)·n)) unless --kv-block-size 0.
        int blockSize = options.KvBlockSize;
        int blocksPerSequence = blockSize > 0 ? (maxLen + blockSize - 1) / blockSize : 0;
        using var slots = blockSize > 0 ? null : model.CreateKvCache(new KvCacheOptions { MaxSequenceLength = maxLen, MaxSlots = b, BudgetBytes = long.MaxValue });
        using var paged = blockSize > 0 ? model.CreatePagedKvCache(long.MaxValue, blockSize, maxLen, (long)b * blocksPerSequence) : null;
        int[]? Table(int i) => paged is null ? null : Enumerable.Range(i * blocksPerSequence, blocksPerSequence).ToArray();
        // K and V bytes per position over all layers, as the cache in use sizes them.
        long kvBytesPerPosition = paged is not null ? paged.BytesPerBlock / paged.BlockSize : slots!.BytesPerSlot / slots.MaxSequenceLength;
        long kvBytes = (long)b * kvBytesPerPosition * AttendedPositions(model, options.PromptTokens + options.NewTokens / 2 + 1);
        Tensor Forward(ForwardBatch batch) => paged is not null ? model.Forward(batch, paged) : model.Forward(batch, slots!);
        var parts = Enumerable.Range(0, b).Select(i => new BatchSequence(i, 0, options.PromptTokens, -1, Table(i))).ToArray();
        int[] prompt = Enumerable.Range(0, b * options.PromptTokens).Select(_ => rng.Next(0, 50000)).ToArray();

        var prefillTimes = new List<double>();
        for (int rep = 0; rep < 2; rep++)
        {
            using var batch = new ForwardBatch(parts, prompt, maxLen);
            var t0 = Stopwatch.GetTimestamp();
            Forward(batch).Dispose();
            prefillTimes.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        double prefillMs = prefillTimes.Min();
        var common = Parameters(options, b, quantization);
        common["quantized_compute"] = quantization == QuantizationMode.None ? null : compute.ToString().ToLowerInvariant();
        report.Add($"prefill-{name}-b{b}", With(common, ("tokens_per_s", Math.Round(b * options.PromptTokens / (prefillMs / 1000), 1)), ("step_ms_p50", Math.Round(prefillMs, 2))));

        // One decode step at context PromptTokens + step: its time, and the tensors (views included) the batch and the
        // forward made.
        (double Ms, long Tensors) DecodeStep(int step)
        {
            var decodeParts = Enumerable.Range(0, b).Select(i => new BatchSequence(i, options.PromptTokens + step, 1, -1, Table(i))).ToArray();
            int[] tokens = Enumerable.Range(0, b).Select(_ => rng.Next(0, 50000)).ToArray();
            long made = TensorsMade();
            using var batch = new ForwardBatch(decodeParts, tokens, maxLen);
            var t0 = Stopwatch.GetTimestamp();
            using var logits = Forward(batch);
            _ = logits.data<float>()[0];
            return (Stopwatch.GetElapsedTime(t0).TotalMilliseconds, TensorsMade() - made);
        }

        // The steady state: untimed steps over the same contexts as the timed ones until the JIT has settled (the first
        // of them also makes the decode buffers).
        var warmup = JitWarmup.UntilQuiet(k => DecodeStep(k % options.NewTokens), TimeSpan.FromMilliseconds(options.WarmupQuietMs), TimeSpan.FromSeconds(10));

        // This machine's bandwidth drifts by a third within minutes: the floor uses probes taken right before and right
        // after the timed steps, the faster of the two (the stricter floor), not the start-up probe alone.
        double probeBefore = MachineProbe.ReadBandwidthGbps();
        // And the NF4 GEMV's cached rate, in the run's compute mode: a step slower than its floor in a period when this
        // rate fell is CPU-bound, not memory-bound.
        double? gemvBefore = quantization == QuantizationMode.Nf4 ? MachineProbe.CachedNf4GemvGbps(compute) : null;
        var steps = new List<double>();
        long tensorsPerStep = 0;
        for (int step = 0; step < options.NewTokens; step++)
        {
            var (ms, tensors) = DecodeStep(step);
            steps.Add(ms);
            tensorsPerStep = Math.Max(tensorsPerStep, tensors);
        }
        double probeAfter = MachineProbe.ReadBandwidthGbps();
        double? gemvAfter = quantization == QuantizationMode.Nf4 ? MachineProbe.CachedNf4GemvGbps(compute) : null;
        double bandwidth = Math.Max(probeBefore, probeAfter);
        double floorStepMs = (weightBytes + kvBytes) / (bandwidth * 1e9) * 1000;
        double weightFloorStepMs = weightBytes / (bandwidth * 1e9) * 1000;
        steps.Sort();
        double p50 = steps[steps.Count / 2];
        double decodeTps = b / (p50 / 1000);
        double floorTps = b / (floorStepMs / 1000);
        decodeTokensPerSecond[$"{name}-b{b}"] = decodeTps;
        report.Add($"decode-{name}-b{b}", With(common,
            ("tokens_per_s", Math.Round(decodeTps, 1)),
            ("step_ms_p50", Math.Round(p50, 2)),
            ("step_ms_p99", Math.Round(steps[(int)Math.Min(steps.Count - 1, Math.Ceiling(steps.Count * 0.99) - 1)], 2)),
            ("weight_bytes_per_step", weightBytes),
            // K and V read at the median step's context (p50 is the median step; a step's time grows with its context).
            ("kv_bytes_per_step", kvBytes),
            ("read_gbps_before", Math.Round(probeBefore, 2)),
            ("read_gbps_after", Math.Round(probeAfter, 2)),
            ("cached_nf4_gemv_gbps_before", gemvBefore is { } gb ? Math.Round(gb, 2) : null),
            ("cached_nf4_gemv_gbps_after", gemvAfter is { } ga ? Math.Round(ga, 2) : null),
            ("floor_step_ms", Math.Round(floorStepMs, 3)),
            ("weight_floor_step_ms", Math.Round(weightFloorStepMs, 3)),
            // What a step costs beyond reading its weights and KV at the measured bandwidth: the fixed per-step cost.
            ("fixed_ms", Math.Round(Math.Max(0, p50 - floorStepMs), 3)),
            ("kv_block_size", blockSize),
            ("warmup_steps", warmup.Steps),
            ("warmup_ms", Math.Round(warmup.Milliseconds, 1)),
            ("warmup_methods_compiled", warmup.MethodsCompiled),
            ("warmup_jit_quiet", warmup.Quiet),
            ("tensors_per_step", tensorsPerStep),
            ("floor_tokens_per_s", Math.Round(floorTps, 1))));
        report.Add($"ratio:decode-{name}-b{b}/bandwidth-floor", new Dictionary<string, JsonNode?> { ["ratio"] = Math.Round(decodeTps / floorTps, 3) });
        // The floor of earlier records (docs/BENCHMARKS.md before 2026-12-05): weights only, the KV cache left out.
        report.Add($"ratio:decode-{name}-b{b}/weight-floor", new Dictionary<string, JsonNode?> { ["ratio"] = Math.Round(weightFloorStepMs / p50, 3) });
        if (quantization != QuantizationMode.None && decodeTokensPerSecond.TryGetValue($"base-b{b}", out double baseTps))
            report.Add($"ratio:decode-{name}-b{b}/decode-base-b{b}", new Dictionary<string, JsonNode?> { ["ratio"] = Math.Round(decodeTps / baseTps, 3) });
    }
}

// Multi-adapter decode (issue 4's scenarios 1-4): base vs one adapter vs one adapter per
// sequence through SGMV vs the naive per-adapter loop, on each base storage benchmarked.
if (options.Adapters > 0 && options.Runs("adapters"))
{
    foreach (var quantization in options.Quantizations)
        MultiAdapterScenario.Run(report, options, modelDir, maxLen, options.Batches.Max(), options.Adapters, quantization);
}

// Scenario 5 through the engine: 1000 adapters over 64 slots with Zipf popularity, beside 32 fixed adapters.
if (options.ZipfAdapters > 0 && options.Runs("zipf"))
    ZipfScenario.Run(report, options, modelDir, maxLen);
if (options.Runs("load"))
    AdapterLoadScenario.Run(report, options, modelDir);
if (options.Runs("overhead"))
    CallOverheadScenario.Run(report);
if (options.Runs("templates"))
    ChatTemplateScenario.Run(report);
if (options.Runs("logprobs"))
    LogprobsScenario.Run(report);
if (options.Runs("samples"))
    SharedPrefillScenario.Run(report, options, modelDir);
if (options.Runs("structured"))
    StructuredOutputScenario.Run(report, options, modelDir, maxLen);
if (options.Runs("kv"))
    PagedKvScenario.Run(report, options, modelDir);
if (options.Runs("turn"))
    PagedKvScenario.RunSecondTurn(report, options, modelDir);
if (options.Runs("mix"))
    AdapterMixScenario.Run(report, options, modelDir, maxLen);

// End to end through the engine: tokenizer-free token prompts, sampling, streaming, batching.
foreach (var quantization in options.Runs("engine") ? options.Quantizations : [])
foreach (int b in options.Batches)
{
    using var engine = InferenceEngine.Create(new InferenceEngineOptions
    {
        ModelPath = modelDir,
        Dtype = options.Dtype,
        Quantization = quantization,
        MaxBatchSize = b,
        MaxBatchTokens = Math.Max(b, 512),
        MaxSequenceLength = maxLen,
        KvCacheBytes = long.MaxValue / 4,
        KvBlockSize = options.KvBlockSize,
    });
    var rng = new Random(2);
    var sampling = new SamplingParams { Temperature = 0.8f, TopP = 0.95f, Seed = 1, MaxNewTokens = options.NewTokens, IgnoreEos = true };
    var t0 = Stopwatch.GetTimestamp();
    var firstTokenMs = new double[b];
    var tasks = Enumerable.Range(0, b).Select(async i =>
    {
        int[] prompt = Enumerable.Range(0, options.PromptTokens).Select(_ => rng.Next(0, 50000)).ToArray();
        int n = 0;
        await foreach (var chunk in engine.GenerateAsync(new GenerationRequest { PromptTokens = prompt, Sampling = sampling }))
        {
            if (n == 0)
                firstTokenMs[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            n += chunk.TokenIds.Count;
        }
        return n;
    }).ToArray();
    int generated = (await Task.WhenAll(tasks)).Sum();
    double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
    Array.Sort(firstTokenMs);
    report.Add($"engine-{Name(quantization)}-b{b}", With(Parameters(options, b, quantization),
        ("kv_block_size", options.KvBlockSize),
        ("tokens_per_s", Math.Round(generated / seconds, 1)),
        ("ttft_ms_p50", Math.Round(firstTokenMs[b / 2], 1)),
        ("ttft_ms_p99", Math.Round(firstTokenMs[^1], 1))));
}

if (options.JsonPath is { } json)
{
    report.Write(json, "dotnet run -c Release --project bench/OrleansLora.Bench -- " + string.Join(' ', args));
    Console.WriteLine($"wrote {json}");
}
return 0;

// Tensors this thread has made so far (TorchSharp counts every one, views included).
static long TensorsMade()
{
    var stats = TorchSharp.DisposeScopeManager.Statistics.TensorStatistics;
    return stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount;
}

// Positions a decode step attends to at this context length: all of them, or the sliding window's.
static int AttendedPositions(LlamaModel model, int context) =>
    model.Config.EffectiveSlidingWindow is int w ? Math.Min(context, w) : context;

static string Name(QuantizationMode q) => q == QuantizationMode.None ? "base" : q.ToString().ToLowerInvariant();

static Dictionary<string, JsonNode?> Parameters(BenchOptions options, int batch, QuantizationMode quantization) => new()
{
    ["model"] = options.Preset,
    ["quantization"] = quantization.ToString().ToLowerInvariant(),
    ["dtype"] = options.Dtype,
    ["batch"] = batch,
    ["adapters"] = 0,
    ["prompt_tokens"] = options.PromptTokens,
    ["new_tokens"] = options.NewTokens,
};

static Dictionary<string, JsonNode?> With(Dictionary<string, JsonNode?> common, params (string Key, JsonNode? Value)[] more)
{
    var d = new Dictionary<string, JsonNode?>(common.Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone())));
    foreach (var (k, v) in more)
        d[k] = v;
    return d;
}
