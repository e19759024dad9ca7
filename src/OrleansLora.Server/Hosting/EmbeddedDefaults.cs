using Microsoft.Extensions.Configuration;
using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.ModelInit;
using OrleansLora.Engine.Models;
using OrleansLora.Grains.Storage;
using OrleansLora.Server.Configuration;

namespace OrleansLora.Server.Hosting;

/// <summary>
/// Makes one command work on a machine with no model: when no model or adapter store is configured, a
/// random-weight tiny model (exact Hugging Face layout) and three demo adapters are generated once into
/// the data directory and configured.
/// </summary>
public static class EmbeddedDefaults
{
    public static readonly IReadOnlyList<(string Id, int Rank, string[] Targets)> DemoAdapters =
    [
        ("demo-support", 8, [.. LoraTargetModules.All]),
        ("demo-sql", 16, ["q_proj", "v_proj"]),
        ("demo-poet", 4, ["q_proj", "k_proj", "v_proj", "o_proj"]),
    ];

    /// <summary>
    /// Fills in <c>OrleansLora:Engine:ModelPath</c> and <c>OrleansLora:AdapterStore:Root</c> when they are missing, on a
    /// silo with devices: a gateway-only silo reads neither (adapter metadata comes through the grains).
    /// </summary>
    public static void Apply(IConfigurationManager configuration, ServerOptions server)
    {
        string data = Path.GetFullPath(server.DataDirectory);
        string modelKey = $"{InferenceEngineOptions.SectionName}:{nameof(InferenceEngineOptions.ModelPath)}";
        string rootKey = $"{AdapterStoreOptions.SectionName}:{nameof(AdapterStoreOptions.Root)}";
        string? model = configuration[modelKey];
        if (string.IsNullOrWhiteSpace(model) && server.HasDevices)
        {
            model = Path.Combine(data, "models", "tiny");
            if (!File.Exists(Path.Combine(model, "config.json")))
                RandomModelWriter.Write(ModelPresets.Tiny, model, seed: 1);
            configuration[modelKey] = model;
        }
        if (string.IsNullOrWhiteSpace(configuration[rootKey]) && server.HasDevices)
        {
            string root = Path.Combine(data, "adapters");
            Directory.CreateDirectory(root);
            if (model is not null)
            {
                var config = ModelConfig.Load(model);
                ulong seed = 100;
                foreach (var (id, rank, targets) in DemoAdapters)
                {
                    string dir = Path.Combine(root, id);
                    if (!File.Exists(Path.Combine(dir, PeftAdapter.WeightsFileName)))
                        PeftAdapterWriter.WriteRandom(config, dir, rank, 2.0 * rank, targets, seed);
                    seed++;
                }
            }
            configuration[rootKey] = root;
        }
    }
}
