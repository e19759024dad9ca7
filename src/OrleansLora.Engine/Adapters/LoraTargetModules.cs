using OrleansLora.Engine.Models;

namespace OrleansLora.Engine.Adapters;

/// <summary>
/// The Llama/Mistral projections a LoRA adapter may target, their shapes in a base model, and
/// PEFT's tensor names for them.
/// </summary>
public static class LoraTargetModules
{
    public const string QProj = "q_proj";
    public const string KProj = "k_proj";
    public const string VProj = "v_proj";
    public const string OProj = "o_proj";
    public const string GateProj = "gate_proj";
    public const string UpProj = "up_proj";
    public const string DownProj = "down_proj";

    /// <summary>All supported modules, in the order they run in a decoder layer.</summary>
    public static IReadOnlyList<string> All { get; } = [QProj, KProj, VProj, OProj, GateProj, UpProj, DownProj];

    public static bool IsSupported(string module) => All.Contains(module, StringComparer.Ordinal);

    /// <summary>Position in <see cref="All"/>; -1 when unsupported.</summary>
    public static int IndexOf(string module)
    {
        for (int i = 0; i < All.Count; i++)
        {
            if (All[i] == module)
                return i;
        }
        return -1;
    }

    /// <summary>The submodule of a decoder layer that holds the projection (<c>self_attn</c> or <c>mlp</c>).</summary>
    public static string Parent(string module) => module switch
    {
        QProj or KProj or VProj or OProj => "self_attn",
        GateProj or UpProj or DownProj => "mlp",
        _ => throw UnknownModule(module),
    };

    /// <summary>Input and output features of the projection's <c>nn.Linear</c> in the base model.</summary>
    public static (int In, int Out) Dimensions(ModelConfig config, string module)
    {
        int hidden = config.HiddenSize;
        int q = config.NumAttentionHeads * config.HeadDim;
        int kv = config.NumKeyValueHeads * config.HeadDim;
        int ff = config.IntermediateSize;
        return module switch
        {
            QProj => (hidden, q),
            KProj or VProj => (hidden, kv),
            OProj => (q, hidden),
            GateProj or UpProj => (hidden, ff),
            DownProj => (ff, hidden),
            _ => throw UnknownModule(module),
        };
    }

    /// <summary>The module's path in the transformers model, as PEFT matches target_modules against it.</summary>
    public static string ModulePath(int layer, string module) => $"model.layers.{layer}.{Parent(module)}.{module}";

    /// <summary>PEFT's saved key, e.g. <c>base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight</c>.</summary>
    public static string PeftKey(int layer, string module, bool isB) =>
        $"base_model.model.{ModulePath(layer, module)}.lora_{(isB ? 'B' : 'A')}.weight";

    /// <summary>
    /// Parses a command-line target list: <c>all</c>, or comma-separated module names.
    /// </summary>
    public static IReadOnlyList<string> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Trim().Equals("all", StringComparison.OrdinalIgnoreCase))
            return All;
        var names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0)
            throw new ArgumentException("no target modules given; use \"all\" or a comma-separated list such as q_proj,v_proj.");
        foreach (string name in names)
        {
            if (!IsSupported(name))
                throw UnknownModule(name);
        }
        // Canonical order, duplicates dropped, so the same set always writes the same adapter.
        return All.Where(names.Contains).ToArray();
    }

    // No parameter name: the message is shown as-is by the CLI.
    private static ArgumentException UnknownModule(string module) =>
        new($"unknown target module \"{module}\"; supported: {string.Join(", ", All)} (or \"all\").");
}
