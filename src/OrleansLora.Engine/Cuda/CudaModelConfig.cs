using System.Runtime.InteropServices;
using OrleansLora.Engine.Models;

namespace OrleansLora.Engine.Cuda;

/// <summary>
/// olora_cuda_model_config, field for field (olora_cuda_runner.h): doubles first, then the float, then the int32s, so
/// the layout is the same under every C ABI and LayoutKind.Sequential. Blittable: passed by pointer.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CudaModelConfig
{
    public double RopeTheta;
    public double RopeFactor;                 // linear / llama3
    public double RopeLowFreqFactor;          // llama3
    public double RopeHighFreqFactor;         // llama3
    public double RopeOriginalMaxPositions;   // llama3
    public float RmsNormEps;
    public int RopeKind;                      // 0 default, 1 linear, 2 llama3
    public int VocabSize;
    public int HiddenSize;
    public int IntermediateSize;
    public int NumLayers;
    public int NumHeads;
    public int KvHeads;
    public int HeadDim;
    public int SlidingWindow;                 // 0: none
    public int MaxPositions;
    public int BlockSize;
    public int NumBlocks;
    public int NumSlots;
    public int MaxRank;
    public int WeightFormat;                  // CudaNative.Format
    public int LmHeadFormat;                  // CudaNative.Format
    public int MaxBatchTokens;                // > 0: activations allocated at create for this many tokens per step

    /// <summary>0 default, 1 linear, 2 llama3: the rope_scaling kinds <see cref="ModelConfig.Validate"/> admits.</summary>
    public static int RopeKindOf(ModelConfig config) => config.RopeScaling?.Kind switch
    {
        null or "default" => 0,
        "linear" => 1,
        "llama3" => 2,
        var kind => throw new ArgumentException($"rope_scaling type \"{kind}\" has no CUDA RoPE table; supported: default, linear, llama3.", nameof(config)),
    };

    /// <summary>The model's shape and RoPE from config.json; the KV, adapter and format fields are the caller's.</summary>
    public static CudaModelConfig From(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var scaling = config.RopeScaling;
        return new CudaModelConfig
        {
            RopeTheta = config.RopeTheta,
            // Only read for the kinds that use them (the native tables ignore them for "default").
            RopeFactor = scaling?.Factor ?? 1.0,
            RopeLowFreqFactor = scaling?.LowFreqFactor ?? 1.0,
            RopeHighFreqFactor = scaling?.HighFreqFactor ?? 4.0,
            RopeOriginalMaxPositions = scaling?.OriginalMaxPositionEmbeddings ?? 8192,
            RmsNormEps = (float)config.RmsNormEps,
            RopeKind = RopeKindOf(config),
            VocabSize = config.VocabSize,
            HiddenSize = config.HiddenSize,
            IntermediateSize = config.IntermediateSize,
            NumLayers = config.NumHiddenLayers,
            NumHeads = config.NumAttentionHeads,
            KvHeads = config.NumKeyValueHeads,
            HeadDim = config.HeadDim,
            SlidingWindow = config.EffectiveSlidingWindow ?? 0,
        };
    }
}
