using OrleansLora.Engine.Quantization;

namespace OrleansLora.Engine.Modeling;

/// <summary>How to load a checkpoint.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>Compute dtype: float32 (default on CPU) or bfloat16 / float16.</summary>
    public string Dtype { get; init; } = "float32";

    /// <summary>
    /// Storage of every linear layer (q/k/v/o, gate/up/down and lm_head) — not embeddings or norms.
    /// Quantized layers take and return activations in the compute dtype and accumulate in float32.
    /// </summary>
    public QuantizationMode Quantization { get; init; } = QuantizationMode.None;

    /// <summary>Arithmetic of the quantized layers: bfloat16 products on AMX tiles where the CPU has them (default), float32 throughout, or int8 dot products for NF4 at 1-8 rows (see <see cref="Quantization.QuantizedCompute"/>).</summary>
    public QuantizedCompute QuantizedCompute { get; init; } = QuantizedCompute.BFloat16;

    /// <summary>
    /// Quantize the lm_head too (default). bitsandbytes keeps it dense for accuracy; here it is a
    /// third of a small model's bytes per decode step, so quantizing it is the default and this
    /// switch trades speed back for accuracy.
    /// </summary>
    public bool QuantizeLmHead { get; init; } = true;

    /// <summary>Positions the rotary tables cover; 0 means max_position_embeddings.</summary>
    public int MaxSequenceLength { get; init; }
}
