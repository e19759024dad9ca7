using System.Buffers.Binary;
using System.Text.Json;
using OrleansLora.Engine.Checkpoints;
using OrleansLora.Engine.ModelInit;
using OrleansLora.Engine.Models;

namespace OrleansLora.Engine.Adapters;

/// <summary>
/// Writes random LoRA adapters in exactly PEFT's <c>save_pretrained</c> layout
/// (<c>adapter_config.json</c>, <c>adapter_model.safetensors</c> with F32 tensors) for tests,
/// demos and benchmarks.
/// </summary>
public static class PeftAdapterWriter
{
    // Keeps adapter streams apart from model-weight streams that use the same seed.
    private const ulong AdapterSeedSalt = 0xA5A5_1D0A_7E57_0001UL;

    /// <summary>
    /// Writes a random adapter. Unlike PEFT's initialisation (B = 0, a no-op until trained), B is
    /// non-zero so the adapter visibly changes outputs. A has std 1/sqrt(in) like PEFT's Kaiming
    /// init, so A·x is O(1); B has std 0.5/sqrt(r), so B·A·x is about 0.5 before scaling. Values
    /// depend only on the seed, layer, module and factor, so the same seed gives the same file
    /// everywhere, and a subset of targets holds the same values as the full set.
    /// </summary>
    /// <param name="baseModelNameOrPath">Written as base_model_name_or_path (informational).</param>
    public static void WriteRandom(ModelConfig baseModel, string directory, int rank, double alpha, IReadOnlyList<string> targets, ulong seed, bool rsLora = false, string? baseModelNameOrPath = null)
    {
        ArgumentNullException.ThrowIfNull(baseModel);
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(targets);
        if (rank <= 0)
            throw new ArgumentOutOfRangeException(nameof(rank), rank, "rank must be positive.");
        if (!double.IsFinite(alpha) || alpha <= 0)
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be a positive number.");
        if (targets.Count == 0)
            throw new ArgumentException("at least one target module is needed.", nameof(targets));
        foreach (string t in targets)
        {
            if (!LoraTargetModules.IsSupported(t))
                throw new ArgumentException($"unknown target module \"{t}\"; supported: {string.Join(", ", LoraTargetModules.All)}.", nameof(targets));
        }
        var modules = LoraTargetModules.All.Where(targets.Contains).ToArray();

        Directory.CreateDirectory(directory);
        var entries = new List<SafetensorsWriter.Entry>();
        var sources = new Dictionary<string, (int Layer, string Module, bool IsB)>();
        for (int layer = 0; layer < baseModel.NumHiddenLayers; layer++)
        {
            foreach (string module in modules)
            {
                var (inFeatures, outFeatures) = LoraTargetModules.Dimensions(baseModel, module);
                foreach (bool isB in new[] { false, true })
                {
                    string key = LoraTargetModules.PeftKey(layer, module, isB);
                    entries.Add(new SafetensorsWriter.Entry(key, SafetensorsDtype.F32, isB ? [outFeatures, rank] : [rank, inFeatures]));
                    sources[key] = (layer, module, isB);
                }
            }
        }

        SafetensorsWriter.Write(Path.Combine(directory, PeftAdapter.WeightsFileName), entries, (e, stream) =>
        {
            var (layer, module, isB) = sources[e.Name];
            double std = isB ? 0.5 / Math.Sqrt(rank) : 1.0 / Math.Sqrt(e.Shape[1]);
            int tensorIndex = ((layer * LoraTargetModules.All.Count) + LoraTargetModules.IndexOf(module)) * 2 + (isB ? 1 : 0);
            var rng = RandomWeights.For(seed ^ AdapterSeedSalt, tensorIndex, 0);
            long count = e.Shape[0] * e.Shape[1];
            byte[] buffer = new byte[checked((int)count * sizeof(float))];
            for (int k = 0; k < count; k++)
                BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(k * sizeof(float)), (float)(std * rng.NextNormal()));
            stream.Write(buffer);
        }, new Dictionary<string, string> { ["format"] = "pt" });

        File.WriteAllText(Path.Combine(directory, PeftAdapterConfig.FileName), ConfigJson(rank, alpha, modules, rsLora, baseModelNameOrPath));
    }

    /// <summary>adapter_config.json as PEFT writes it: every LoraConfig field, keys sorted, indent 2.</summary>
    private static string ConfigJson(int rank, double alpha, IReadOnlyList<string> modules, bool rsLora, string? baseModelNameOrPath)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, IndentSize = 2 }))
        {
            json.WriteStartObject();
            json.WriteStartObject("alpha_pattern");
            json.WriteEndObject();
            json.WriteNull("auto_mapping");
            if (baseModelNameOrPath is null)
                json.WriteNull("base_model_name_or_path");
            else
                json.WriteString("base_model_name_or_path", baseModelNameOrPath);
            json.WriteString("bias", "none");
            json.WriteBoolean("fan_in_fan_out", false);
            json.WriteBoolean("inference_mode", true);
            json.WriteBoolean("init_lora_weights", true);
            json.WriteNull("layer_replication");
            json.WriteNull("layers_pattern");
            json.WriteNull("layers_to_transform");
            json.WriteStartObject("loftq_config");
            json.WriteEndObject();
            // PEFT writes an integral alpha as an integer (16, not 16.0).
            if (alpha == Math.Floor(alpha) && Math.Abs(alpha) < 1e15)
                json.WriteNumber("lora_alpha", (long)alpha);
            else
                json.WriteNumber("lora_alpha", alpha);
            json.WriteBoolean("lora_bias", false);
            json.WriteNumber("lora_dropout", 0.0);
            json.WriteNull("megatron_config");
            json.WriteString("megatron_core", "megatron.core");
            json.WriteNull("modules_to_save");
            json.WriteString("peft_type", "LORA");
            json.WriteNumber("r", rank);
            json.WriteStartObject("rank_pattern");
            json.WriteEndObject();
            json.WriteNull("revision");
            json.WriteStartArray("target_modules");
            foreach (string m in modules)
                json.WriteStringValue(m);
            json.WriteEndArray();
            json.WriteString("task_type", "CAUSAL_LM");
            json.WriteBoolean("use_dora", false);
            json.WriteBoolean("use_rslora", rsLora);
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
