using System.Text.Json;
using System.Text.Json.Serialization;
using OrleansLora.Engine.Files;
using OrleansLora.Engine.Models;

namespace OrleansLora.Engine.Adapters;

/// <summary>
/// The fields of a PEFT <c>adapter_config.json</c> that decide how a LoRA adapter is applied, with
/// PEFT's defaults. Fields PEFT writes that do not affect inference (dropout, init, task type) are
/// ignored; fields that would change the computation in ways the engine does not implement are kept
/// so <see cref="Validate"/> can refuse them.
/// </summary>
public sealed record PeftAdapterConfig
{
    public const string FileName = "adapter_config.json";

    [JsonPropertyName("peft_type")] public string? PeftType { get; init; }
    [JsonPropertyName("r")] public int Rank { get; init; } = 8;
    [JsonPropertyName("lora_alpha")] public double LoraAlpha { get; init; } = 8;
    /// <summary>A list of module names (suffix match) or a single regular expression (full match), as in PEFT.</summary>
    [JsonPropertyName("target_modules")] public JsonElement? TargetModulesRaw { get; init; }
    [JsonPropertyName("use_rslora")] public bool UseRsLora { get; init; }
    [JsonPropertyName("fan_in_fan_out")] public bool FanInFanOut { get; init; }
    [JsonPropertyName("bias")] public string Bias { get; init; } = "none";
    [JsonPropertyName("base_model_name_or_path")] public string? BaseModelNameOrPath { get; init; }
    [JsonPropertyName("use_dora")] public bool UseDora { get; init; }
    [JsonPropertyName("lora_bias")] public bool LoraBias { get; init; }
    [JsonPropertyName("modules_to_save")] public IReadOnlyList<string>? ModulesToSave { get; init; }
    /// <summary>An int or a list of ints; only applies to a list-form target_modules, as in PEFT.</summary>
    [JsonPropertyName("layers_to_transform")] public JsonElement? LayersToTransformRaw { get; init; }
    [JsonPropertyName("rank_pattern")] public Dictionary<string, JsonElement>? RankPattern { get; init; }
    [JsonPropertyName("alpha_pattern")] public Dictionary<string, JsonElement>? AlphaPattern { get; init; }
    [JsonPropertyName("task_type")] public string? TaskType { get; init; }

    /// <summary>The factor folded into B: lora_alpha / r, or lora_alpha / sqrt(r) with rsLoRA.</summary>
    [JsonIgnore] public double Scaling => UseRsLora ? LoraAlpha / Math.Sqrt(Rank) : LoraAlpha / Rank;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>
    /// Reads <c>adapter_config.json</c> from an adapter directory (or the file itself); does not
    /// validate. The file is opened as <see cref="RegularFiles.OpenRead"/> does: a regular file of
    /// at most <see cref="AdapterLoadOptions.MaxConfigBytes"/>, inside <see cref="AdapterLoadOptions.Sandbox"/>.
    /// </summary>
    public static PeftAdapterConfig Load(string path, AdapterLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= new AdapterLoadOptions();
        string file = Directory.Exists(path) ? Path.Combine(path, FileName) : path;
        if (!File.Exists(file) && !Directory.Exists(file))
            throw new ModelFormatException(file, $"{FileName} not found; a PEFT LoRA adapter directory holds {FileName} and {PeftAdapter.WeightsFileName}.");
        try
        {
            using var handle = RegularFiles.OpenRead(file, options.MaxConfigBytes, options.Sandbox);
            using var stream = new FileStream(handle, FileAccess.Read, bufferSize: 0);
            return JsonSerializer.Deserialize<PeftAdapterConfig>(stream, JsonOptions)
                ?? throw new ModelFormatException(file, $"{FileName} is empty.");
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException(file, $"not valid JSON for a PEFT adapter config: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Throws <see cref="ModelFormatException"/> naming the first setting the engine cannot serve,
    /// and returns the (layer, module) pairs the adapter must hold weights for in
    /// <paramref name="baseModel"/>.
    /// </summary>
    public IReadOnlySet<(int Layer, string Module)> Validate(string file, ModelConfig baseModel, AdapterLoadOptions options)
    {
        if (PeftType is { } type && !type.Equals("LORA", StringComparison.OrdinalIgnoreCase))
            throw new ModelFormatException(file, $"peft_type \"{type}\" is not supported; only LORA adapters can be served.");
        if (UseDora)
            throw new ModelFormatException(file, "use_dora = true: DoRA adapters are not supported (their magnitude vectors need the merged weight norm per step); train with use_dora = false or merge the adapter into the base model.");
        if (ModulesToSave is { Count: > 0 })
            throw new ModelFormatException(file, $"modules_to_save ({string.Join(", ", ModulesToSave)}) is not supported: those fully trained modules would replace base-model weights for this adapter only; train without modules_to_save or merge the adapter into the base model.");
        if (Bias != "none")
            throw new ModelFormatException(file, $"bias \"{Bias}\" is not supported; only bias = \"none\" (adapters that train biases change the base model's layers).");
        if (LoraBias)
            throw new ModelFormatException(file, "lora_bias = true is not supported; only LoRA adapters without a bias on lora_B.");
        if (RankPattern is { Count: > 0 } || AlphaPattern is { Count: > 0 })
            throw new ModelFormatException(file, "rank_pattern / alpha_pattern are not supported; every module must use the same r and lora_alpha.");
        if (Rank <= 0)
            throw new ModelFormatException(file, $"\"r\" must be a positive integer, got {Rank}.");
        if (Rank > options.MaxRank)
            throw new ModelFormatException(file, $"rank r = {Rank} is above the configured maximum of {options.MaxRank}; raise the maximum rank (AdapterLoadOptions.MaxRank) or use an adapter of rank {options.MaxRank} or less.");
        if (!double.IsFinite(LoraAlpha) || LoraAlpha <= 0)
            throw new ModelFormatException(file, $"\"lora_alpha\" must be a positive number, got {LoraAlpha}.");
        return ExpectedModules(file, baseModel);
    }

    private HashSet<(int, string)> ExpectedModules(string file, ModelConfig baseModel)
    {
        int layers = baseModel.NumHiddenLayers;
        var expected = new HashSet<(int, string)>();
        switch (TargetModulesRaw)
        {
            case { ValueKind: JsonValueKind.String } s:
            {
                string pattern = s.GetString()!;
                if (pattern == "all-linear")
                {
                    // PEFT's shorthand: every linear layer but the output head.
                    for (int layer = 0; layer < layers; layer++)
                    {
                        foreach (string module in LoraTargetModules.All)
                            expected.Add((layer, module));
                    }
                    break;
                }
                TargetPattern.AddMatches(file, pattern, layers, expected);
                if (expected.Count == 0)
                    throw new ModelFormatException(file, $"target_modules {TargetPattern.Quote(pattern)} matches none of the supported modules ({string.Join(", ", LoraTargetModules.All)}) of the base model.");
                break;
            }
            case { ValueKind: JsonValueKind.Array } list:
            {
                var names = new List<string>();
                foreach (var item in list.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String)
                        throw new ModelFormatException(file, $"target_modules must hold module names, found {item.GetRawText()}.");
                    names.Add(item.GetString()!);
                }
                if (names.Count == 0)
                    throw new ModelFormatException(file, "target_modules is empty: the adapter changes nothing.");
                var layerFilter = LayersToTransform(file, layers);
                foreach (string name in names)
                {
                    bool matched = false;
                    for (int layer = 0; layer < layers; layer++)
                    {
                        foreach (string module in LoraTargetModules.All)
                        {
                            // PEFT's rule: the module's path equals the entry or ends with "." + entry.
                            string path = LoraTargetModules.ModulePath(layer, module);
                            if (path == name || path.EndsWith("." + name, StringComparison.Ordinal))
                            {
                                matched = true;
                                if (layerFilter is null || layerFilter.Contains(layer))
                                    expected.Add((layer, module));
                            }
                        }
                    }
                    if (!matched)
                        throw new ModelFormatException(file, $"unknown target module \"{name}\" in target_modules; supported: {string.Join(", ", LoraTargetModules.All)} (layers 0-{layers - 1} of the base model).");
                }
                break;
            }
            default:
                throw new ModelFormatException(file, "target_modules is missing; it must list the adapted modules, e.g. [\"q_proj\", \"v_proj\"].");
        }
        return expected;
    }

    private HashSet<int>? LayersToTransform(string file, int layers)
    {
        if (LayersToTransformRaw is not { ValueKind: not JsonValueKind.Null } raw)
            return null;
        var items = raw.ValueKind == JsonValueKind.Array ? raw.EnumerateArray().ToArray() : [raw];
        var indexes = new List<int>();
        foreach (var item in items)
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int index))
                throw new ModelFormatException(file, $"layers_to_transform must be an integer or a list of integers, got {raw.GetRawText()}.");
            indexes.Add(index);
        }
        foreach (int i in indexes)
        {
            if (i < 0 || i >= layers)
                throw new ModelFormatException(file, $"layers_to_transform names layer {i}, but the base model has {layers} layers (0-{layers - 1}); was the adapter trained for another model?");
        }
        return [.. indexes];
    }
}
