namespace OrleansLora.Engine.Quantization;

/// <summary>The arithmetic of the quantized linear layers (how their weights are stored is <see cref="QuantizationMode"/>).</summary>
public enum QuantizedCompute
{
    /// <summary>
    /// Where the CPU has AMX-BF16 tiles, batches of 6 or more rows (NF4; int8: 9) multiply in
    /// bfloat16 with float32 sums: 2.4-16x faster at 16-256 rows (4096 x 4096); each product is off by less than
    /// 2^-8 relative, far below the quantization error itself (what bitsandbytes users get with
    /// bnb_4bit_compute_dtype=bfloat16). Elsewhere, and on smaller batches, the same as Float32.
    /// </summary>
    BFloat16,

    /// <summary>Float32 products and sums on every path (bit-stable across batch sizes).</summary>
    Float32,
}
