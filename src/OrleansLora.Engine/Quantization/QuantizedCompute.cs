namespace OrleansLora.Engine.Quantization;

/// <summary>The arithmetic of the quantized linear layers (how their weights are stored is <see cref="QuantizationMode"/>).</summary>
public enum QuantizedCompute
{
    /// <summary>
    /// Where the CPU has AMX-BF16 tiles, batches of 6 or more rows (NF4; int8: 9) multiply in
    /// bfloat16 with float32 sums: 2.4-16x faster at 16-256 rows (4096 x 4096); each product is off by less than
    /// 2^-8 relative, far below the quantization error itself (what bitsandbytes users get with
    /// bnb_4bit_compute_dtype=bfloat16). With AVX-512, NF4 layers on 1-8 rows (decode; 1-5 where 6 and more
    /// take the tiles) whose input width is whole 64-value blocks take bfloat16 dot products (x and the code
    /// book rounded to bfloat16, float32 sums; the same bound; an x below 2^-100 or at the float maximum takes
    /// float32 instead). Elsewhere the same as Float32.
    /// </summary>
    BFloat16,

    /// <summary>Float32 products and sums on every path (bit-stable across batch sizes).</summary>
    Float32,

    /// <summary>
    /// As BFloat16, except that NF4 layers on 1-8 rows (decode at batch 1-8) whose input width is whole
    /// 64-value blocks take int8 dot products on AVX-512 VNNI, ahead of the AMX tiles: x is rounded per
    /// 64-value block to int8 (127 steps of the block's max|x|) and the code book to round(127 · code),
    /// with int32 sums per block (IPEX's weight-only lowp_mode INT8, llama.cpp's 4-bit × 8-bit dots).
    /// 1.4-3x faster NF4 layers where compute bounds them (CPU cache, short rows, 4-8 rows); each
    /// product is off by at most (|x| + max|x|) · absmax / 254.
    /// </summary>
    Int8,
}
