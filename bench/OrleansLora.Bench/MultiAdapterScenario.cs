using System.Diagnostics;
using System.Text.Json.Nodes;
using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Caching;
using OrleansLora.Engine.Modeling;

namespace OrleansLora.Bench;

/// <summary>
/// Decode steps with every sequence on the base model, on one adapter, and on its own adapter
/// (rank 16, all projections), timed in interleaved rounds in one run: the cost of SGMV.
/// </summary>
internal static class MultiAdapterScenario
{
    public static void Run(BenchReport report, BenchOptions options, string modelDir, int maxLen, int batch, int adapters)
    {
        using var model = LlamaModel.Load(modelDir, new ModelLoadOptions { Dtype = options.Dtype, MaxSequenceLength = maxLen });
        const int rank = 16;
        using var table = new AdapterSlotTable(model.Config, adapters, rank, model.Dtype);
        for (int i = 0; i < adapters; i++)
        {
            string dir = Path.Combine("artifacts", "adapters", $"{options.Preset}-r{rank}-{i}");
            if (!File.Exists(Path.Combine(dir, PeftAdapter.WeightsFileName)))
                PeftAdapterWriter.WriteRandom(model.Config, dir, rank, 2 * rank, LoraTargetModules.All, seed: (ulong)i);
            using var adapter = PeftAdapter.Load(dir, model.Config);
            table.Load(i, adapter);
        }
        model.Adapters = table;

        using var cache = model.CreateKvCache(new KvCacheOptions { MaxSequenceLength = maxLen, MaxSlots = batch, BudgetBytes = long.MaxValue });
        var rng = new Random(3);
        int[] prompt = Enumerable.Range(0, batch * options.PromptTokens).Select(_ => rng.Next(0, 50000)).ToArray();
        using (var prefill = new ForwardBatch(Enumerable.Range(0, batch).Select(i => new BatchSequence(i, 0, options.PromptTokens)).ToArray(), prompt, maxLen))
            model.Forward(prefill, cache).Dispose();

        (string Name, Func<int, int> Slot)[] modes = [("base", _ => -1), ("1", _ => 0), ($"{adapters}", i => i % adapters)];
        var times = modes.ToDictionary(m => m.Name, _ => new List<double>());
        for (int step = 0; step < options.NewTokens; step++)
        {
            foreach (var (name, slotOf) in modes)
            {
                // The same position for every mode: each step overwrites the same cache rows.
                var parts = Enumerable.Range(0, batch).Select(i => new BatchSequence(i, options.PromptTokens + step, 1, slotOf(i))).ToArray();
                int[] tokens = Enumerable.Range(0, batch).Select(_ => rng.Next(0, 50000)).ToArray();
                using var forward = new ForwardBatch(parts, tokens, maxLen);
                var t0 = Stopwatch.GetTimestamp();
                using var logits = model.Forward(forward, cache);
                times[name].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
        }
        double P50(List<double> t) => t.Order().ElementAt(t.Count / 2);
        double baseMs = P50(times["base"]);
        foreach (var (name, _) in modes)
        {
            double ms = P50(times[name]);
            report.Add($"adapters-{name}-b{batch}", new Dictionary<string, JsonNode?>
            {
                ["model"] = options.Preset,
                ["quantization"] = "none",
                ["dtype"] = options.Dtype,
                ["batch"] = batch,
                ["adapters"] = name == "base" ? 0 : int.Parse(name, System.Globalization.CultureInfo.InvariantCulture),
                ["rank"] = rank,
                ["tokens_per_s"] = Math.Round(batch / (ms / 1000), 1),
                ["step_ms_p50"] = Math.Round(ms, 2),
                ["lora_ms_per_step"] = Math.Round(ms - baseMs, 2),
            });
        }
        report.Add($"ratio:adapters-{adapters}-b{batch}/adapters-base-b{batch}", new Dictionary<string, JsonNode?> { ["ratio"] = Math.Round(baseMs / P50(times[$"{adapters}"]), 3) });
        model.Adapters = null;
    }
}
