using System.Diagnostics;
using System.Text.Json.Nodes;
using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Caching;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Quantization;

namespace OrleansLora.Bench;

/// <summary>
/// Decode steps with every sequence on the base model, on one adapter, on its own adapter
/// through SGMV, and on its own adapter through the naive per-adapter loop (rank 16, all
/// projections), timed in interleaved rounds in one run per base-model storage: issue 4's
/// scenarios 1-4. LoRA time per step is the step time minus the base model's.
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
        using var table = new AdapterSlotTable(model.Config, adapters, Rank, model.Dtype);
        var loaded = new List<PeftAdapter>();
        try
        {
            for (int i = 0; i < adapters; i++)
            {
                loaded.Add(PeftAdapter.Load(AdapterDirectory(options, model.Config, i), model.Config));
                table.Load(i, loaded[i]);
            }
            var naive = new NaiveLoopLora(loaded);
            Measure(report, options, model, table, naive, maxLen, batch, adapters, quantization);
        }
        finally
        {
            model.Adapters = null;
            foreach (var a in loaded)
                a.Dispose();
        }
    }

    private static void Measure(BenchReport report, BenchOptions options, LlamaModel model, AdapterSlotTable table, NaiveLoopLora naive, int maxLen, int batch, int adapters, QuantizationMode quantization)
    {
        using var cache = model.CreateKvCache(new KvCacheOptions { MaxSequenceLength = maxLen, MaxSlots = batch, BudgetBytes = long.MaxValue });
        var rng = new Random(3);
        int[] prompt = Enumerable.Range(0, batch * options.PromptTokens).Select(_ => rng.Next(0, 50000)).ToArray();
        using (var prefill = new ForwardBatch(Enumerable.Range(0, batch).Select(i => new BatchSequence(i, 0, options.PromptTokens)).ToArray(), prompt, maxLen))
            model.Forward(prefill, cache).Dispose();

        string q = quantization == QuantizationMode.None ? "" : quantization.ToString().ToLowerInvariant() + "-";
        string multi = $"adapters-{adapters}-{q}b{batch}", naiveName = $"naive-loop-{adapters}-{q}b{batch}", baseName = $"adapters-base-{q}b{batch}";
        (string Name, int Adapters, ILoraApplier Lora, Func<int, int> Slot)[] modes =
        [
            (baseName, 0, table, _ => -1),
            ($"adapters-1-{q}b{batch}", 1, table, _ => 0),
            (multi, adapters, table, i => i % adapters),
            (naiveName, adapters, naive, i => i % adapters),
        ];
        var times = modes.ToDictionary(m => m.Name, _ => new List<double>());
        for (int step = 0; step < options.NewTokens; step++)
        {
            foreach (var (name, _, lora, slotOf) in modes)
            {
                // The same position for every mode: each step overwrites the same cache rows.
                var parts = Enumerable.Range(0, batch).Select(i => new BatchSequence(i, options.PromptTokens + step, 1, slotOf(i))).ToArray();
                int[] tokens = Enumerable.Range(0, batch).Select(_ => rng.Next(0, 50000)).ToArray();
                using var forward = new ForwardBatch(parts, tokens, maxLen);
                model.Adapters = lora;
                var t0 = Stopwatch.GetTimestamp();
                using var logits = model.Forward(forward, cache);
                times[name].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
        }
        double P50(string name) => times[name].Order().ElementAt(times[name].Count / 2);
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
                ["tokens_per_s"] = Math.Round(batch / (ms / 1000), 1),
                ["step_ms_p50"] = Math.Round(ms, 2),
                ["lora_ms_per_step"] = Math.Round(ms - baseMs, 2),
            });
        }
        Ratio(report, $"ratio:{multi}/{baseName}", baseMs / P50(multi));
        Ratio(report, $"ratio:{multi}/{naiveName}", P50(naiveName) / P50(multi));
        Ratio(report, $"ratio:lora_ms_per_step:{multi}/{naiveName}", (P50(multi) - baseMs) / Math.Max(1e-9, P50(naiveName) - baseMs));
    }

    public static void Ratio(BenchReport report, string scenario, double ratio) =>
        report.Add(scenario, new Dictionary<string, JsonNode?> { ["ratio"] = Math.Round(ratio, 3) });
}
