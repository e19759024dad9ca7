using System.Diagnostics;
using System.Text.Json.Nodes;
using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Caching;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Quantization;
using static TorchSharp.torch;

namespace OrleansLora.Bench;

/// <summary>
/// Decode steps with every sequence on the base model, on one adapter, on its own adapter
/// through SGMV, and on its own adapter through the naive per-adapter loop (rank 16, all
/// projections), timed in interleaved rounds in one run per base-model storage: issue 4's
/// scenarios 1-4. LoRA time per step is the time spent in the LoRA calls of the step (timed
/// directly; the step time minus the base model's is reported beside it). With bfloat16
/// adapter tables, the same 32 adapters in float32 tables run in the same rounds, so what the
/// table dtype buys is measured side by side.
/// </summary>
internal static class MultiAdapterScenario
{
    public const int Rank = 16;

    /// <summary>The rank-16 adapter files the scenarios share, written on first use.</summary>
    public static string AdapterDirectory(BenchOptions options, ModelConfig config, int i)
    {
        string dir = Path.Combine("artifacts", "adapters", $"{options.Preset}-r{Rank}-{i}");
        if (!File.Exists(Path.Combine(dir, PeftAdapter.WeightsFileName)))
            PeftAdapterWriter.WriteRandom(config, dir, Rank, 2 * Rank, LoraTargetModules.All, seed: (ulong)i);
        return dir;
    }

    public static void Run(BenchReport report, BenchOptions options, string modelDir, int maxLen, int batch, int adapters, QuantizationMode quantization)
    {
        using var model = LlamaModel.Load(modelDir, new ModelLoadOptions { Dtype = options.Dtype, Quantization = quantization, MaxSequenceLength = maxLen });
        using var table = new AdapterSlotTable(model.Config, adapters, Rank, EngineDtypes.FromTorchDtypeName(options.AdapterDtype, "--adapter-dtype"));
        using var f32Table = table.Dtype == ScalarType.Float32 ? null : new AdapterSlotTable(model.Config, adapters, Rank, ScalarType.Float32);
        var loaded = new List<PeftAdapter>();
        try
        {
            for (int i = 0; i < adapters; i++)
            {
                loaded.Add(PeftAdapter.Load(AdapterDirectory(options, model.Config, i), model.Config));
                table.Load(i, loaded[i]);
                f32Table?.Load(i, loaded[i]);
            }
            var naive = new NaiveLoopLora(loaded);
            Measure(report, options, model, table, f32Table, naive, maxLen, batch, adapters, quantization);
        }
        finally
        {
            model.Adapters = null;
            foreach (var a in loaded)
                a.Dispose();
        }
    }

    private static void Measure(BenchReport report, BenchOptions options, LlamaModel model, AdapterSlotTable table, AdapterSlotTable? f32Table, NaiveLoopLora naive, int maxLen, int batch, int adapters, QuantizationMode quantization)
    {
        using var cache = model.CreateKvCache(new KvCacheOptions { MaxSequenceLength = maxLen, MaxSlots = batch, BudgetBytes = long.MaxValue });
        var rng = new Random(3);
        int[] prompt = Enumerable.Range(0, batch * options.PromptTokens).Select(_ => rng.Next(0, 50000)).ToArray();
        using (var prefill = new ForwardBatch(Enumerable.Range(0, batch).Select(i => new BatchSequence(i, 0, options.PromptTokens)).ToArray(), prompt, maxLen))
            model.Forward(prefill, cache).Dispose();

        string q = quantization == QuantizationMode.None ? "" : quantization.ToString().ToLowerInvariant() + "-";
        string multi = $"adapters-{adapters}-{q}b{batch}", naiveName = $"naive-loop-{adapters}-{q}b{batch}", baseName = $"adapters-base-{q}b{batch}";
        string f32Name = $"adapters-{adapters}-f32tables-{q}b{batch}";
        (string Name, int Adapters, ILoraApplier Lora, Func<int, int> Slot)[] modes =
        [
            (baseName, 0, table, _ => -1),
            ($"adapters-1-{q}b{batch}", 1, table, _ => 0),
            (multi, adapters, table, i => i % adapters),
            .. f32Table is null ? [] : new (string, int, ILoraApplier, Func<int, int>)[] { (f32Name, adapters, f32Table, i => i % adapters) },
            (naiveName, adapters, naive, i => i % adapters),
        ];
        var times = modes.ToDictionary(m => m.Name, _ => new List<double>());
        var loraTimes = modes.ToDictionary(m => m.Name, _ => new List<double>());
        var timed = modes.ToDictionary(m => m.Name, m => new TimedLora(m.Lora));
        for (int step = 0; step < options.NewTokens; step++)
        {
            foreach (var (name, _, _, slotOf) in modes)
            {
                // The same position for every mode: each step overwrites the same cache rows.
                var parts = Enumerable.Range(0, batch).Select(i => new BatchSequence(i, options.PromptTokens + step, 1, slotOf(i))).ToArray();
                int[] tokens = Enumerable.Range(0, batch).Select(_ => rng.Next(0, 50000)).ToArray();
                using var forward = new ForwardBatch(parts, tokens, maxLen);
                model.Adapters = timed[name];
                var t0 = Stopwatch.GetTimestamp();
                using var logits = model.Forward(forward, cache);
                times[name].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                loraTimes[name].Add(timed[name].TakeMilliseconds());
            }
        }
        double P50(string name) => times[name].Order().ElementAt(times[name].Count / 2);
        double LoraP50(string name) => loraTimes[name].Order().ElementAt(loraTimes[name].Count / 2);
        double baseMs = P50(baseName);
        foreach (var (name, count, _, _) in modes)
        {
            double ms = P50(name);
            report.Add(name, new Dictionary<string, JsonNode?>
            {
                ["model"] = options.Preset,
                ["quantization"] = quantization.ToString().ToLowerInvariant(),
                ["dtype"] = options.Dtype,
                ["batch"] = batch,
                ["adapters"] = count,
                ["rank"] = Rank,
                ["prompt_tokens"] = options.PromptTokens,
                ["new_tokens"] = options.NewTokens,
                ["lora"] = name == naiveName ? "naive-loop" : "sgmv",
                ["adapter_dtype"] = name == naiveName || name == f32Name ? "float32" : options.AdapterDtype,
                ["tokens_per_s"] = Math.Round(batch / (ms / 1000), 1),
                ["step_ms_p50"] = Math.Round(ms, 2),
                ["lora_ms_per_step"] = Math.Round(LoraP50(name), 2),
                ["step_minus_base_ms"] = Math.Round(ms - baseMs, 2),
            });
        }
        Ratio(report, $"ratio:{multi}/{baseName}", baseMs / P50(multi));
        Ratio(report, $"ratio:{multi}/{naiveName}", P50(naiveName) / P50(multi));
        Ratio(report, $"ratio:lora_ms_per_step:{multi}/{naiveName}", LoraP50(multi) / LoraP50(naiveName));
        if (f32Table is not null)
        {
            Ratio(report, $"ratio:{f32Name}/{baseName}", baseMs / P50(f32Name));
            Ratio(report, $"ratio:lora_ms_per_step:{multi}/{f32Name}", LoraP50(multi) / LoraP50(f32Name));
        }
    }

    public static void Ratio(BenchReport report, string scenario, double ratio) =>
        report.Add(scenario, new Dictionary<string, JsonNode?> { ["ratio"] = Math.Round(ratio, 3) });
}
