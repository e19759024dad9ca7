using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.ModelInit;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Tests.Support;

namespace OrleansLora.Engine.Tests.Cuda;

/// <summary>
/// Tiny random models in the Hugging Face layout for the CUDA runner's host emulation tests, each with two adapters of
/// different ranks: <c>a0</c> rank 8 on every projection, <c>a1</c> rank 4 on q_proj and v_proj only (rsLoRA).
/// <list type="bullet">
/// <item><c>llama</c>: the tiny preset (GQA 4:2, tied embeddings, default RoPE).</item>
/// <item><c>mistral</c>: Mistral with a sliding window of 6 (shorter than every prompt), untied lm_head, linear RoPE scaling.</item>
/// <item><c>llama3</c>: llama3 RoPE scaling with an original context of 64 (so every branch of the formula is used), GQA 4:1, untied.</item>
/// </list>
/// </summary>
public sealed class CudaTestModels : IDisposable
{
    private readonly TempDirectory _root = new("olora-cuda-models");

    public static IReadOnlyList<string> Names { get; } = ["llama", "mistral", "llama3"];

    public CudaTestModels()
    {
        foreach (string name in Names)
        {
            var config = ConfigOf(name);
            string dir = Path(name);
            RandomModelWriter.Write(config, dir, seed: 1234 + (ulong)name.Length);
            PeftAdapterWriter.WriteRandom(config, AdapterPath(name, 0), rank: 8, alpha: 16, LoraTargetModules.All, seed: 40);
            PeftAdapterWriter.WriteRandom(config, AdapterPath(name, 1), rank: 4, alpha: 8, [LoraTargetModules.QProj, LoraTargetModules.VProj], seed: 41, rsLora: true);
        }
    }

    public static ModelConfig ConfigOf(string name) => name switch
    {
        "llama" => ModelPresets.Tiny,
        "mistral" => ModelPresets.Tiny with
        {
            Architectures = ["MistralForCausalLM"],
            ModelType = "mistral",
            SlidingWindow = 6,
            TieWordEmbeddings = false,
            RopeScaling = new RopeScaling { RopeType = "linear", Factor = 2 },
        },
        "llama3" => ModelPresets.Tiny with
        {
            NumKeyValueHeadsRaw = 1,
            TieWordEmbeddings = false,
            RopeTheta = 500000,
            RopeScaling = new RopeScaling { RopeType = "llama3", Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositionEmbeddings = 64 },
        },
        _ => throw new ArgumentException($"no test model {name}", nameof(name)),
    };

    public string Path(string name) => System.IO.Path.Combine(_root.Path, name);

    public string AdapterPath(string name, int index) => System.IO.Path.Combine(_root.Path, $"{name}-a{index}");

    public void Dispose() => _root.Dispose();
}
