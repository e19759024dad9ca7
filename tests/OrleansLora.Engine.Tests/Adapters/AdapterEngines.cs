using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Sampling;

namespace OrleansLora.Engine.Tests.Adapters;

/// <summary>Adapters on disk, engines over the tiny model, and greedy runs, for the engine-level adapter tests.</summary>
internal static class AdapterEngines
{
    /// <summary>Random all-projection adapters <c>a0, a1, ...</c> under <paramref name="root"/>, alpha = 2·rank.</summary>
    public static string[] Write(string modelPath, string root, int[] ranks, int seed = 40)
    {
        var config = ModelConfig.Load(modelPath);
        var dirs = new string[ranks.Length];
        for (int i = 0; i < ranks.Length; i++)
        {
            dirs[i] = Path.Combine(root, $"a{i}");
            PeftAdapterWriter.WriteRandom(config, dirs[i], ranks[i], 2.0 * ranks[i], LoraTargetModules.All, seed: (ulong)(seed + i));
        }
        return dirs;
    }

    /// <summary>An engine with <paramref name="adapters"/> registered as <c>a0, a1, ...</c>.</summary>
    public static InferenceEngine Create(string modelPath, string[] adapters, InferenceEngineOptions? options = null)
    {
        var engine = InferenceEngine.Create((options ?? new InferenceEngineOptions()) with
        {
            ModelPath = modelPath,
            MaxSequenceLength = 128,
            KvCacheBytes = 16L * 1024 * 1024,
        });
        for (int i = 0; i < adapters.Length; i++)
            engine.RegisterAdapter($"a{i}", adapters[i]);
        return engine;
    }

    public static GenerationRequest Greedy(int[] prompt, string? adapterId, int newTokens = 8) => new()
    {
        PromptTokens = prompt,
        AdapterId = adapterId,
        Sampling = SamplingParams.Greedy with { MaxNewTokens = newTokens, IgnoreEos = true },
    };

    public static async Task<int[]> Run(InferenceEngine engine, GenerationRequest request)
    {
        var tokens = new List<int>();
        await foreach (var chunk in engine.GenerateAsync(request))
            tokens.AddRange(chunk.TokenIds);
        return tokens.ToArray();
    }

    public static async Task<AdapterResidencyLevel> ResidencyOf(InferenceEngine engine, string adapterId) =>
        (await engine.GetAdaptersAsync()).Single(a => a.AdapterId == adapterId).Residency;
}
