using System.Globalization;
using System.Text.RegularExpressions;
using OrleansLora.Engine.Checkpoints;
using OrleansLora.Engine.Files;
using OrleansLora.Engine.Models;
using TorchSharp;

namespace OrleansLora.Engine.Adapters;

/// <summary>
/// A PEFT LoRA adapter loaded for one base model: per layer and targeted projection, A <c>[r, in]</c>
/// and B <c>[out, r]</c> as float32 CPU tensors, with the scaling folded into B so applying it is
/// just <c>B · (A · x)</c>. Everything is validated before any tensor is read, and anything the
/// engine cannot serve is a <see cref="ModelFormatException"/> naming the file, tensor and fix.
/// </summary>
/// <remarks>
/// <c>fan_in_fan_out</c> is accepted and ignored: it only describes how the <em>base</em> layer
/// stores its weight (GPT-2's Conv1D). PEFT always stores lora_A/lora_B as nn.Linear weights
/// (<c>[r, in]</c>, <c>[out, r]</c>), and for nn.Linear targets such as Llama's it resets the flag
/// to false itself, so transposing here would be wrong. Shapes are still checked, so a genuinely
/// transposed file is refused.
/// </remarks>
public sealed class PeftAdapter : IDisposable
{
    public const string WeightsFileName = "adapter_model.safetensors";
    public const string PickledWeightsFileName = "adapter_model.bin";

    // PEFT's saved keys; ".default" (the in-memory adapter name) appears in some hand-made exports.
    private static readonly Regex KeyPattern = new(
        @"^base_model\.model\.model\.layers\.(?<layer>\d+)\.(?<parent>[A-Za-z0-9_]+)\.(?<module>[A-Za-z0-9_]+)\.lora_(?<ab>[AB])(?:\.default)?\.weight$",
        RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture);

    private readonly Dictionary<(int Layer, string Module), LoraModuleWeights> _weights;
    private bool _disposed;

    private PeftAdapter(string name, string directory, PeftAdapterConfig config, IReadOnlyList<string> targets, int layers, Dictionary<(int, string), LoraModuleWeights> weights)
    {
        Name = name;
        Directory = directory;
        Config = config;
        TargetModules = targets;
        NumLayers = layers;
        _weights = weights;
    }

    public string Name { get; }
    public string Directory { get; }
    public PeftAdapterConfig Config { get; }
    public int Rank => Config.Rank;
    /// <summary>Already multiplied into every B; exposed for reporting and reference checks.</summary>
    public double Scaling => Config.Scaling;
    /// <summary>The projections adapted in at least one layer, in <see cref="LoraTargetModules.All"/> order.</summary>
    public IReadOnlyList<string> TargetModules { get; }
    /// <summary>The base model's layer count the adapter was validated against.</summary>
    public int NumLayers { get; }
    public IReadOnlyCollection<LoraModuleWeights> Weights => _weights.Values;

    /// <summary>The pair for a layer's projection, or null where the adapter leaves it unchanged.</summary>
    public LoraModuleWeights? Get(int layer, string module)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _weights.GetValueOrDefault((layer, module));
    }

    /// <summary>Total bytes of the loaded A and B tensors (float32).</summary>
    public long ByteSize => _weights.Values.Sum(w => (w.A.NumberOfElements + w.B.NumberOfElements) * sizeof(float));

    /// <summary>Everything about the adapter except its weights.</summary>
    public PeftAdapterInfo Info => new(Name, Directory, Config, TargetModules, NumLayers, ByteSize);

    /// <summary>
    /// Validates the adapter — config, weight file, every tensor's name and shape, then every weight
    /// (finite and within <see cref="AdapterLoadOptions.MaxAbsWeight"/>, streamed through a small
    /// buffer) — without keeping any weights: what registration needs before the weights are
    /// loaded on demand.
    /// </summary>
    public static PeftAdapterInfo Inspect(string directory, ModelConfig baseModel, AdapterLoadOptions? options = null)
    {
        options ??= new AdapterLoadOptions();
        var (info, file, found) = Open(directory, baseModel, options);
        using (file)
            AdapterWeightCheck.Verify(file, info.Config, found, options.MaxAbsWeight);
        return info;
    }

    public static PeftAdapter Load(string directory, ModelConfig baseModel, AdapterLoadOptions? options = null)
    {
        options ??= new AdapterLoadOptions();
        var (info, file, found) = Open(directory, baseModel, options);
        using (file)
            return new PeftAdapter(info.Name, info.Directory, info.Config, info.TargetModules, info.NumLayers, ReadWeights(file, info.Config, found, options.MaxAbsWeight));
    }

    /// <summary>
    /// Validates as <see cref="Inspect"/> does, except the weights, and keeps the weight file open
    /// with every factor's header entry by (layer, module, isB), for loaders that read the weights
    /// into their own layout (and check them there). Every file is opened as
    /// <see cref="RegularFiles.OpenRead"/> does, inside <see cref="AdapterLoadOptions.Sandbox"/>.
    /// </summary>
    internal static (PeftAdapterInfo Info, SafetensorsFile File, Dictionary<(int Layer, string Module, bool IsB), SafetensorsTensorInfo> Found) Open(string directory, ModelConfig baseModel, AdapterLoadOptions? options)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(baseModel);
        options ??= new AdapterLoadOptions();
        if (!System.IO.Directory.Exists(directory))
            throw new ModelFormatException(directory, "adapter directory not found.");
        options.Sandbox?.Resolve(directory);

        string configFile = Path.Combine(directory, PeftAdapterConfig.FileName);
        var config = PeftAdapterConfig.Load(directory, options);
        var expected = config.Validate(configFile, baseModel, options);

        string weightsFile = Path.Combine(directory, WeightsFileName);
        if (!File.Exists(weightsFile) && !System.IO.Directory.Exists(weightsFile))
        {
            string pickled = Path.Combine(directory, PickledWeightsFileName);
            if (File.Exists(pickled))
                throw new ModelFormatException(pickled, $"pickled PyTorch weights are not loaded (unpickling can run arbitrary code); convert them to safetensors: load the adapter with PEFT and call save_pretrained(dir, safe_serialization=True), which writes {WeightsFileName}.");
            throw new ModelFormatException(weightsFile, $"{WeightsFileName} not found beside {PeftAdapterConfig.FileName}.");
        }

        var file = SafetensorsFile.Open(weightsFile, options.MaxHeaderBytes, options.Sandbox);
        try
        {
            var found = Index(file, config, baseModel, expected);
            long bytes = 0;
            foreach (var (layer, module) in expected.OrderBy(p => p.Layer).ThenBy(p => LoraTargetModules.IndexOf(p.Module)))
            {
                for (int ab = 0; ab < 2; ab++)
                {
                    if (!found.TryGetValue((layer, module, ab == 1), out var tensor))
                    {
                        string key = LoraTargetModules.PeftKey(layer, module, isB: ab == 1);
                        throw new ModelFormatException(weightsFile, key, $"missing: {PeftAdapterConfig.FileName} targets {module} in layer {layer}, but the file has no lora_{(ab == 1 ? 'B' : 'A')} for it (incomplete or mismatched adapter).");
                    }
                    bytes += tensor.Shape.Aggregate(1L, (x, y) => x * y) * sizeof(float);
                }
            }
            var targets = LoraTargetModules.All.Where(m => expected.Any(p => p.Module == m)).ToArray();
            string fullPath = Path.GetFullPath(directory);
            string name = options.Name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(fullPath));
            return (new PeftAdapterInfo(name, fullPath, config, targets, baseModel.NumHiddenLayers, bytes), file, found);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static Dictionary<(int, string), LoraModuleWeights> ReadWeights(SafetensorsFile file, PeftAdapterConfig config, Dictionary<(int, string, bool), SafetensorsTensorInfo> found, float maxAbs)
    {
        var weights = new Dictionary<(int, string), LoraModuleWeights>();
        try
        {
            foreach (var (layer, module, isB) in found.Keys)
            {
                if (isB)
                    continue;
                var a = ReadFloat32(file, found[(layer, module, false)], config, isB: false, maxAbs);
                torch.Tensor b;
                try
                {
                    b = ReadFloat32(file, found[(layer, module, true)], config, isB: true, maxAbs);
                    // Folding the scaling here keeps it out of the per-step kernels entirely.
                    using var scaling = config.Scaling.ToScalar(); // held across the call, never left to the finalizer
                    b.mul_(scaling);
                }
                catch
                {
                    a.Dispose();
                    throw;
                }
                weights[(layer, module)] = new LoraModuleWeights(layer, module, a, b);
            }
        }
        catch
        {
            foreach (var w in weights.Values)
            {
                w.A.Dispose();
                w.B.Dispose();
            }
            throw;
        }

        return weights;
    }

    /// <summary>
    /// Maps every tensor in the file to its (layer, module, isB), refusing any tensor that is not a
    /// LoRA factor of an expected module or whose shape does not fit the base model.
    /// </summary>
    private static Dictionary<(int, string, bool), SafetensorsTensorInfo> Index(SafetensorsFile file, PeftAdapterConfig config, ModelConfig baseModel, IReadOnlySet<(int Layer, string Module)> expected)
    {
        var found = new Dictionary<(int, string, bool), SafetensorsTensorInfo>();
        foreach (var info in file.Tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            string name = info.Name;
            var match = KeyPattern.Match(name);
            if (!match.Success)
                throw new ModelFormatException(file.Path, name, Unrecognised(name));

            string parent = match.Groups["parent"].Value;
            string module = match.Groups["module"].Value;
            bool isB = match.Groups["ab"].Value == "B";
            if (!LoraTargetModules.IsSupported(module) || LoraTargetModules.Parent(module) != parent)
                throw new ModelFormatException(file.Path, name, $"unknown target module \"{parent}.{module}\"; supported: {string.Join(", ", LoraTargetModules.All)}.");
            if (!int.TryParse(match.Groups["layer"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int layer) || layer >= baseModel.NumHiddenLayers)
                throw new ModelFormatException(file.Path, name, $"layer index {match.Groups["layer"].Value} is beyond the base model's {baseModel.NumHiddenLayers} layers (0-{baseModel.NumHiddenLayers - 1}); the adapter was trained for a different (deeper) model (base_model_name_or_path: {config.BaseModelNameOrPath ?? "not given"}).");
            if (!expected.Contains((layer, module)))
                throw new ModelFormatException(file.Path, name, $"{module} of layer {layer} is not covered by target_modules in {PeftAdapterConfig.FileName}; the config and the weights disagree.");
            if (!found.TryAdd((layer, module, isB), info))
                throw new ModelFormatException(file.Path, name, $"duplicate: lora_{(isB ? 'B' : 'A')} of {module} in layer {layer} appears twice (with and without \".default\").");

            var (inFeatures, outFeatures) = LoraTargetModules.Dimensions(baseModel, module);
            long[] want = isB ? [outFeatures, config.Rank] : [config.Rank, inFeatures];
            if (!info.Shape.SequenceEqual(want))
            {
                string what = isB ? $"[out = {outFeatures}, r = {config.Rank}]" : $"[r = {config.Rank}, in = {inFeatures}]";
                throw new ModelFormatException(file.Path, name, $"shape {info.ShapeText} does not match the base model: expected {what} (r from {PeftAdapterConfig.FileName}, features from the base model's {module}); was the adapter trained for a different model (base_model_name_or_path: {config.BaseModelNameOrPath ?? "not given"})?");
            }
        }
        return found;
    }

    private static string Unrecognised(string name)
    {
        if (name.Contains("lora_magnitude_vector", StringComparison.Ordinal))
            return "DoRA magnitude vector: DoRA adapters are not supported; train with use_dora = false.";
        if (name.Contains("lora_embedding_", StringComparison.Ordinal))
            return "LoRA on embeddings is not supported; target only q/k/v/o and gate/up/down projections.";
        if (name.EndsWith(".bias", StringComparison.Ordinal))
            return "bias tensors are not supported; only adapters trained with bias = \"none\".";
        return $"not a LoRA weight of a supported module (expected base_model.model.model.layers.N.{{self_attn|mlp}}.<module>.lora_A|lora_B.weight with <module> one of {string.Join(", ", LoraTargetModules.All)}); modules_to_save and other full weights are not supported.";
    }

    private static torch.Tensor ReadFloat32(SafetensorsFile file, SafetensorsTensorInfo info, PeftAdapterConfig config, bool isB, float maxAbs)
    {
        var raw = file.Read(info);
        try
        {
            AdapterWeightCheck.Check(file.Path, info, raw, config, isB, maxAbs);
        }
        catch
        {
            raw.Dispose();
            throw;
        }
        if (raw.dtype == torch.ScalarType.Float32)
            return raw;
        using (raw)
            return raw.to_type(torch.ScalarType.Float32);
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        foreach (var w in _weights.Values)
        {
            w.A.Dispose();
            w.B.Dispose();
        }
    }
}
