using System.Text.Json;

namespace OrleansLora.Engine.Tests.Reference;

/// <summary>
/// The config.json fields a Llama/Mistral forward pass needs, read with <see cref="JsonDocument"/>
/// independently of the engine's own config type, with transformers' defaults.
/// </summary>
public sealed record ReferenceConfig
{
    public required string Architecture { get; init; }
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int NumHiddenLayers { get; init; }
    public required int NumAttentionHeads { get; init; }
    public required int NumKeyValueHeads { get; init; }
    public required int HeadDim { get; init; }
    public required double RmsNormEps { get; init; }
    public required double RopeTheta { get; init; }
    public ReferenceRopeScaling? RopeScaling { get; init; }
    public required bool TieWordEmbeddings { get; init; }

    /// <summary>Only set for MistralForCausalLM: a query at p attends keys j with p - window &lt; j &lt;= p.</summary>
    public int? SlidingWindow { get; init; }

    public static ReferenceConfig Load(string directory) =>
        Parse(File.ReadAllText(Path.Combine(directory, "config.json")));

    public static ReferenceConfig Parse(string json)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        var root = doc.RootElement;

        string architecture = root.TryGetProperty("architectures", out var archs) && archs.ValueKind == JsonValueKind.Array && archs.GetArrayLength() > 0
            ? archs[0].GetString() ?? ""
            : "";
        if (architecture is not ("LlamaForCausalLM" or "MistralForCausalLM"))
            throw new InvalidDataException($"reference: unsupported architecture \"{architecture}\".");

        int heads = RequiredInt(root, "num_attention_heads");
        int hidden = RequiredInt(root, "hidden_size");
        int? window = null;
        if (architecture == "MistralForCausalLM" && root.TryGetProperty("sliding_window", out var sw) && sw.ValueKind == JsonValueKind.Number)
            window = sw.GetInt32();

        return new ReferenceConfig
        {
            Architecture = architecture,
            VocabSize = RequiredInt(root, "vocab_size"),
            HiddenSize = hidden,
            IntermediateSize = RequiredInt(root, "intermediate_size"),
            NumHiddenLayers = RequiredInt(root, "num_hidden_layers"),
            NumAttentionHeads = heads,
            NumKeyValueHeads = OptionalInt(root, "num_key_value_heads") ?? heads,
            HeadDim = OptionalInt(root, "head_dim") ?? hidden / heads,
            RmsNormEps = OptionalDouble(root, "rms_norm_eps") ?? 1e-6,
            RopeTheta = OptionalDouble(root, "rope_theta") ?? 10000.0,
            RopeScaling = ParseRopeScaling(root),
            TieWordEmbeddings = root.TryGetProperty("tie_word_embeddings", out var tie) && tie.ValueKind == JsonValueKind.True,
            SlidingWindow = window,
        };
    }

    private static ReferenceRopeScaling? ParseRopeScaling(JsonElement root)
    {
        if (!root.TryGetProperty("rope_scaling", out var rs) || rs.ValueKind != JsonValueKind.Object)
            return null;
        string kind = (rs.TryGetProperty("rope_type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()
            : rs.TryGetProperty("type", out var t2) && t2.ValueKind == JsonValueKind.String ? t2.GetString()
            : "default")!.ToLowerInvariant();
        if (kind == "default")
            return null;
        if (kind is not ("linear" or "llama3"))
            throw new InvalidDataException($"reference: unsupported rope_scaling type \"{kind}\".");
        return new ReferenceRopeScaling(
            kind,
            OptionalDouble(rs, "factor") ?? throw new InvalidDataException("reference: rope_scaling.factor missing."),
            OptionalDouble(rs, "low_freq_factor") ?? (kind == "llama3" ? throw new InvalidDataException("reference: low_freq_factor missing.") : 0),
            OptionalDouble(rs, "high_freq_factor") ?? (kind == "llama3" ? throw new InvalidDataException("reference: high_freq_factor missing.") : 0),
            OptionalDouble(rs, "original_max_position_embeddings") ?? (kind == "llama3" ? throw new InvalidDataException("reference: original_max_position_embeddings missing.") : 0));
    }

    private static int RequiredInt(JsonElement e, string name) =>
        OptionalInt(e, name) ?? throw new InvalidDataException($"reference: config field \"{name}\" missing.");

    private static int? OptionalInt(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;

    private static double? OptionalDouble(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
}
