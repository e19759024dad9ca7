using System.Text.Json;
using OrleansLora.Engine.Models;

namespace OrleansLora.Engine.ModelInit;

/// <summary>
/// Shapes of the random-weight models <c>olora model init</c> writes. Token ids follow the GPT-2
/// tokenizer written beside them (vocabulary padded to 50304; eos &lt;|endoftext|&gt; and &lt;|im_end|&gt;).
/// </summary>
public static class ModelPresets
{
    public static IReadOnlyList<string> Names { get; } = ["tiny", "small", "mistral-7b"];

    private static JsonElement Eos(params int[] ids) => JsonSerializer.SerializeToElement(ids);

    /// <summary>A few MB: tests and the embedded default.</summary>
    public static ModelConfig Tiny { get; } = new()
    {
        Architectures = ["LlamaForCausalLM"],
        ModelType = "llama",
        VocabSize = 50304,
        HiddenSize = 64,
        IntermediateSize = 176,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        NumKeyValueHeadsRaw = 2,
        HeadDimRaw = 16,
        RmsNormEps = 1e-5,
        RopeTheta = 10000,
        MaxPositionEmbeddings = 1024,
        TieWordEmbeddings = true,
        TorchDtype = "bfloat16",
        BosTokenId = 50256,
        EosTokenIdRaw = Eos(50256, 50258),
    };

    /// <summary>About 140M parameters (90M outside the tied embedding): benchmarks.</summary>
    public static ModelConfig Small { get; } = Tiny with
    {
        HiddenSize = 1024,
        IntermediateSize = 2816,
        NumHiddenLayers = 8,
        NumAttentionHeads = 16,
        NumKeyValueHeadsRaw = 4,
        HeadDimRaw = 64,
        MaxPositionEmbeddings = 2048,
    };

    /// <summary>
    /// Mistral-7B-v0.1's real shape (7.24B parameters, 14.5 GB in bfloat16), sharded like the
    /// original. Its 32000 ids hold GPT-2's first 31997 tokens and the three special tokens
    /// (&lt;|endoftext|&gt; 31997, &lt;|im_start|&gt; 31998, &lt;|im_end|&gt; 31999).
    /// </summary>
    public static ModelConfig Mistral7B { get; } = new()
    {
        Architectures = ["MistralForCausalLM"],
        ModelType = "mistral",
        VocabSize = 32000,
        HiddenSize = 4096,
        IntermediateSize = 14336,
        NumHiddenLayers = 32,
        NumAttentionHeads = 32,
        NumKeyValueHeadsRaw = 8,
        HeadDimRaw = 128,
        RmsNormEps = 1e-5,
        RopeTheta = 10000,
        MaxPositionEmbeddings = 32768,
        SlidingWindow = 4096,
        TieWordEmbeddings = false,
        TorchDtype = "bfloat16",
        BosTokenId = 31997,
        EosTokenIdRaw = Eos(31997, 31999),
    };

    public static ModelConfig Get(string name) => name.ToLowerInvariant() switch
    {
        "tiny" => Tiny,
        "small" => Small,
        "mistral-7b" => Mistral7B,
        _ => throw new ArgumentException($"unknown preset \"{name}\"; presets: {string.Join(", ", Names)}.", nameof(name)),
    };
}
