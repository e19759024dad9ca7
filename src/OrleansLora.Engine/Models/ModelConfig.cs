using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansLora.Engine.Models;

/// <summary>
/// The fields of a Hugging Face <c>config.json</c> that a Llama or Mistral forward pass needs,
/// with transformers' defaults. <see cref="Load"/> validates them and refuses other architectures.
/// </summary>
public sealed record ModelConfig
{
    public static readonly IReadOnlyList<string> SupportedArchitectures = ["LlamaForCausalLM", "MistralForCausalLM"];

    [JsonPropertyName("architectures")] public IReadOnlyList<string> Architectures { get; init; } = [];
    [JsonPropertyName("model_type")] public string? ModelType { get; init; }
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; }
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; }
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; }
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; }
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; }
    [JsonPropertyName("num_key_value_heads")] public int? NumKeyValueHeadsRaw { get; init; }
    [JsonPropertyName("head_dim")] public int? HeadDimRaw { get; init; }
    [JsonPropertyName("rms_norm_eps")] public double RmsNormEps { get; init; } = 1e-6;
    [JsonPropertyName("rope_theta")] public double RopeTheta { get; init; } = 10000.0;
    [JsonPropertyName("rope_scaling")] public RopeScaling? RopeScaling { get; init; }
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 2048;
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; }
    [JsonPropertyName("sliding_window")] public int? SlidingWindow { get; init; }
    [JsonPropertyName("torch_dtype")] public string? TorchDtype { get; init; }
    [JsonPropertyName("bos_token_id")] public int? BosTokenId { get; init; }
    [JsonPropertyName("eos_token_id")] public JsonElement? EosTokenIdRaw { get; init; }
    [JsonPropertyName("attention_bias")] public bool AttentionBias { get; init; }
    [JsonPropertyName("mlp_bias")] public bool MlpBias { get; init; }
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "silu";

    [JsonIgnore] public string Architecture => Architectures.Count > 0 ? Architectures[0] : "";
    [JsonIgnore] public int NumKeyValueHeads => NumKeyValueHeadsRaw ?? NumAttentionHeads;
    [JsonIgnore] public int HeadDim => HeadDimRaw ?? (NumAttentionHeads == 0 ? 0 : HiddenSize / NumAttentionHeads);

    /// <summary>Mistral's window: a query at position p attends to keys at positions &gt; p - window.</summary>
    [JsonIgnore] public int? EffectiveSlidingWindow => Architecture == "MistralForCausalLM" ? SlidingWindow : null;

    /// <summary>eos_token_id may be one id or a list of them.</summary>
    [JsonIgnore]
    public IReadOnlyList<int> EosTokenIds => EosTokenIdRaw switch
    {
        { ValueKind: JsonValueKind.Number } e => [e.GetInt32()],
        { ValueKind: JsonValueKind.Array } e => e.EnumerateArray().Select(x => x.GetInt32()).ToArray(),
        _ => [],
    };

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Reads and validates <c>config.json</c> from a model directory (or the file itself).</summary>
    public static ModelConfig Load(string path)
    {
        string file = Directory.Exists(path) ? Path.Combine(path, "config.json") : path;
        if (!File.Exists(file))
            throw new ModelFormatException(file, "config.json not found.");
        ModelConfig? config;
        try
        {
            using var stream = File.OpenRead(file);
            config = JsonSerializer.Deserialize<ModelConfig>(stream, JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException(file, $"not valid JSON for a model config: {ex.Message}", ex);
        }
        if (config is null)
            throw new ModelFormatException(file, "config.json is empty.");
        config.Validate(file);
        return config;
    }

    public string ToJson() => JsonSerializer.Serialize(this, new JsonSerializerOptions(JsonOptions) { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull });

    /// <summary>Throws <see cref="ModelFormatException"/> naming the first field that is wrong.</summary>
    public void Validate(string source)
    {
        if (!SupportedArchitectures.Contains(Architecture))
        {
            string named = Architectures.Count == 0 ? "no \"architectures\" entry" : $"architecture \"{string.Join(", ", Architectures)}\"";
            throw new ModelFormatException(source, $"{named} is not supported; supported: {string.Join(", ", SupportedArchitectures)}.");
        }
        void Positive(int value, string name)
        {
            if (value <= 0) throw new ModelFormatException(source, $"\"{name}\" must be a positive integer, got {value}.");
        }
        Positive(VocabSize, "vocab_size");
        Positive(HiddenSize, "hidden_size");
        Positive(IntermediateSize, "intermediate_size");
        Positive(NumHiddenLayers, "num_hidden_layers");
        Positive(NumAttentionHeads, "num_attention_heads");
        Positive(NumKeyValueHeads, "num_key_value_heads");
        Positive(HeadDim, "head_dim");
        Positive(MaxPositionEmbeddings, "max_position_embeddings");
        if (NumAttentionHeads % NumKeyValueHeads != 0)
            throw new ModelFormatException(source, $"num_attention_heads ({NumAttentionHeads}) must be a multiple of num_key_value_heads ({NumKeyValueHeads}).");
        if (HeadDim % 2 != 0)
            throw new ModelFormatException(source, $"head_dim ({HeadDim}) must be even for rotary embeddings.");
        if (HeadDimRaw is null && HiddenSize % NumAttentionHeads != 0)
            throw new ModelFormatException(source, $"hidden_size ({HiddenSize}) is not divisible by num_attention_heads ({NumAttentionHeads}) and no head_dim is given.");
        if (!(RmsNormEps > 0))
            throw new ModelFormatException(source, $"\"rms_norm_eps\" must be > 0, got {RmsNormEps}.");
        if (!(RopeTheta > 0))
            throw new ModelFormatException(source, $"\"rope_theta\" must be > 0, got {RopeTheta}.");
        if (SlidingWindow is { } w && w <= 0)
            throw new ModelFormatException(source, $"\"sliding_window\" must be positive or null, got {w}.");
        if (HiddenAct != "silu")
            throw new ModelFormatException(source, $"\"hidden_act\" \"{HiddenAct}\" is not supported; only silu (SwiGLU).");
        if (AttentionBias || MlpBias)
            throw new ModelFormatException(source, "attention_bias / mlp_bias = true is not supported.");
        if (RopeScaling is { } rs)
        {
            switch (rs.Kind)
            {
                case "default":
                    break;
                case "linear":
                case "llama3":
                    if (!(rs.Factor > 0)) throw new ModelFormatException(source, $"rope_scaling.factor must be > 0, got {rs.Factor}.");
                    if (rs.Kind == "llama3" && !(rs.HighFreqFactor > rs.LowFreqFactor))
                        throw new ModelFormatException(source, "rope_scaling: high_freq_factor must exceed low_freq_factor.");
                    break;
                default:
                    throw new ModelFormatException(source, $"rope_scaling type \"{rs.Kind}\" is not supported; supported: linear, llama3.");
            }
        }
        foreach (int id in EosTokenIds.Concat(BosTokenId is { } b ? [b] : []))
        {
            if (id < 0 || id >= VocabSize)
                throw new ModelFormatException(source, $"token id {id} (bos/eos) is outside the vocabulary of {VocabSize}.");
        }
        _ = EngineDtypes.FromTorchDtypeName(TorchDtype ?? "float32", source);
    }
}
