/* Math the CUDA runner shares between host and device: compiled by nvcc as __host__ __device__
 * and by the plain C++ compiler for the CPU unit tests (tests/cuda_math_test.cpp), which check it
 * against the CPU kernels (olora_kernels.h) — the only part of the CUDA path tested without a GPU.
 * Covered: bf16 rounding, NF4 decode (bitsandbytes layout), RoPE inverse frequencies (default,
 * linear, llama3) and the rotate_half rotation, paged-KV block-table addressing, and the SGMV
 * segment plan (which (segment, row tile) each block of one launch works on). */
#ifndef OLORA_CUDA_MATH_H
#define OLORA_CUDA_MATH_H

#include <stdint.h>
#include <string.h>

#if defined(__CUDACC__)
#define OLORA_HD __host__ __device__ __forceinline__
#else
#define OLORA_HD inline
#include <math.h>
#endif

namespace olora_cuda {

/* ---------------------------------------------------------------------------------------------
 * bf16: the top 16 bits of a float32, rounded to nearest even (NaN stays a quiet NaN), as torch's
 * .to(bfloat16) and the CPU kernels' store_row. Kept as raw uint16_t so host code needs no CUDA
 * headers; the device kernels convert through these too, so both sides round identically. */
OLORA_HD uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
    return __float_as_uint(f);
#else
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
#endif
}

OLORA_HD float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
    return __uint_as_float(u);
#else
    float f;
    memcpy(&f, &u, 4);
    return f;
#endif
}

OLORA_HD uint16_t f32_to_bf16(float f) {
    const uint32_t u = float_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);  // NaN
    return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

OLORA_HD float bf16_to_f32(uint16_t h) { return bits_float(static_cast<uint32_t>(h) << 16); }

/* ---------------------------------------------------------------------------------------------
 * NF4, bitsandbytes layout: element g of the flattened weight is nibble (g & 1 ? low : high) of
 * byte g / 2, scaled by absmax[g / 64] (blocksize 64, blocks may straddle rows). */
constexpr int kNf4BlockSize = 64;

OLORA_HD float nf4_code(int c) {
    /* A switch, not a table: usable on host and device without a __constant__ copy. */
    switch (c & 15) {
        case 0: return -1.0f;
        case 1: return -0.6961928009986877f;
        case 2: return -0.5250730514526367f;
        case 3: return -0.39491748809814453f;
        case 4: return -0.28444138169288635f;
        case 5: return -0.18477343022823334f;
        case 6: return -0.09105003625154495f;
        case 7: return 0.0f;
        case 8: return 0.07958029955625534f;
        case 9: return 0.16093020141124725f;
        case 10: return 0.24611230194568634f;
        case 11: return 0.33791524171829224f;
        case 12: return 0.44070982933044434f;
        case 13: return 0.5626170039176941f;
        case 14: return 0.7229568362236023f;
        default: return 1.0f;
    }
}

OLORA_HD int nf4_nibble(const uint8_t* codes, int64_t g) {
    const uint8_t byte = codes[g >> 1];
    return (g & 1) ? (byte & 0xF) : (byte >> 4);
}

OLORA_HD float nf4_decode(const uint8_t* codes, const float* absmax, int64_t g) {
    return nf4_code(nf4_nibble(codes, g)) * absmax[g / kNf4BlockSize];
}

/* ---------------------------------------------------------------------------------------------
 * RoPE. Inverse frequency of pair i (0 <= i < head_dim / 2) in double, exactly as
 * RotaryEmbedding.InverseFrequencies (C#) and transformers' _compute_*_parameters. */
enum RopeKind : int32_t { kRopeDefault = 0, kRopeLinear = 1, kRopeLlama3 = 2 };

struct RopeParams {
    int32_t kind;            /* RopeKind */
    int32_t head_dim;        /* even */
    double theta;            /* rope_theta */
    double factor;           /* linear / llama3 factor */
    double low_freq_factor;  /* llama3 */
    double high_freq_factor; /* llama3 */
    double original_max_positions; /* llama3 original_max_position_embeddings */
};

OLORA_HD double rope_inv_freq(const RopeParams& p, int i) {
    double inv = 1.0 / pow(p.theta, 2.0 * i / p.head_dim);
    if (p.kind == kRopeLinear) return inv / p.factor;
    if (p.kind == kRopeLlama3) {
        const double kPi = 3.14159265358979323846;
        const double low_wavelen = p.original_max_positions / p.low_freq_factor;
        const double high_wavelen = p.original_max_positions / p.high_freq_factor;
        const double wavelen = 2 * kPi / inv;
        if (wavelen > low_wavelen) return inv / p.factor;
        if (wavelen >= high_wavelen) {
            const double smooth = (p.original_max_positions / wavelen - p.low_freq_factor) /
                                  (p.high_freq_factor - p.low_freq_factor);
            return (1 - smooth) * inv / p.factor + smooth * inv;
        }
    }
    return inv;
}

/* cos / sin of position pos for pair i, rounded to float as the C# table is. */
OLORA_HD void rope_cos_sin(const RopeParams& p, int64_t pos, int i, float* c, float* s) {
    const double angle = static_cast<double>(pos) * rope_inv_freq(p, i);
    *c = static_cast<float>(cos(angle));
    *s = static_cast<float>(sin(angle));
}

/* Rotates pair (x1, x2) = (x[i], x[i + head_dim / 2]) by (c, s): rotate_half convention,
 * products and sums rounded separately (the engine's libtorch ops and olora_rope: no FMA). */
OLORA_HD void rope_rotate(float* x1, float* x2, float c, float s) {
#if defined(__CUDA_ARCH__)
    const float a = __fadd_rn(__fmul_rn(*x1, c), __fmul_rn(-*x2, s));
    const float b = __fadd_rn(__fmul_rn(*x2, c), __fmul_rn(*x1, s));
#else
    /* Host callers compile with -ffp-contract=off (CMake), so these are not fused. */
    const float a = *x1 * c + -*x2 * s;
    const float b = *x2 * c + *x1 * s;
#endif
    *x1 = a;
    *x2 = b;
}

/* Host: the cos / sin tables [max_positions, head_dim] as RotaryEmbedding.cs fills them (both halves of a row
 * equal), for the checks that compare a kernel against the CPU's tables. */
inline void rope_fill_tables(const RopeParams& p, int max_positions, float* cos_table, float* sin_table) {
    const int d = p.head_dim;
    for (int pos = 0; pos < max_positions; ++pos)
        for (int i = 0; i < d / 2; ++i) {
            float c, s;
            rope_cos_sin(p, pos, i, &c, &s);
            cos_table[size_t(pos) * d + i] = cos_table[size_t(pos) * d + i + d / 2] = c;
            sin_table[size_t(pos) * d + i] = sin_table[size_t(pos) * d + i + d / 2] = s;
        }
}

/* ---------------------------------------------------------------------------------------------
 * Paged KV cache: per layer a K and a V pool [num_blocks, kv_heads, block_size, head_dim] (the CPU
 * kernels' layout). Position pos of a sequence with block table row bt lives in block
 * bt[pos / block_size], row pos % block_size. */
struct KvGeom {
    int32_t block_size;
    int32_t kv_heads;
    int32_t head_dim;
};

/* vLLM's slot_mapping value of a position: block * block_size + row. */
OLORA_HD int64_t kv_slot(const int32_t* block_table, int32_t pos, int32_t block_size) {
    return static_cast<int64_t>(block_table[pos / block_size]) * block_size + pos % block_size;
}

/* Element offset of (slot, kv head h, dim 0) in a pool. */
OLORA_HD int64_t kv_offset(const KvGeom& g, int64_t slot, int32_t h) {
    const int64_t block = slot / g.block_size, row = slot % g.block_size;
    return ((block * g.kv_heads + h) * g.block_size + row) * g.head_dim;
}

/* First key position a query at pos may see (sliding window w >= 1, or 0 = none). */
OLORA_HD int32_t attn_first_key(int32_t pos, int32_t window) {
    return (window > 0 && pos - window + 1 > 0) ? pos - window + 1 : 0;
}

/* Split-K decode: the number of context parts of kPart positions a context of len positions
 * (from first to len - 1) is cut into. */
OLORA_HD int32_t attn_num_parts(int32_t first, int32_t len, int32_t part) {
    return len > first ? (len - first + part - 1) / part : 0;
}

/* ---------------------------------------------------------------------------------------------
 * SGMV segment plan. One launch per projection covers every segment of the batch, mixed ranks:
 * the host cuts each segment with a slot into tiles of at most rows_per_tile rows and uploads the
 * tiles; block b of the launch does tile b (blockIdx.x), so segments without an adapter (slot -1)
 * and empty segments cost nothing. Ranks come from the device slot tables, not the plan. */
struct SgmvTile {
    int32_t row0;  /* first row of the tile */
    int32_t rows;  /* 1 .. rows_per_tile */
    int32_t slot;  /* adapter slot (>= 0) */
    int32_t seg;   /* segment index, for diagnostics */
};

/* Writes the tiles of a batch into tiles[0 .. return value) (capacity max_tiles; the count is
 * returned even when it exceeds the capacity, so a caller can size the buffer with a first call
 * with max_tiles 0). Segments: rows seg_starts[i] .. seg_starts[i + 1] - 1 use slot seg_slots[i]. */
OLORA_HD int32_t sgmv_plan(const int32_t* seg_starts, const int32_t* seg_slots, int32_t num_segments,
                           int32_t rows_per_tile, SgmvTile* tiles, int32_t max_tiles) {
    int32_t n = 0;
    for (int32_t i = 0; i < num_segments; ++i) {
        const int32_t slot = seg_slots[i];
        if (slot < 0) continue;
        for (int32_t r = seg_starts[i]; r < seg_starts[i + 1]; r += rows_per_tile) {
            if (n < max_tiles) {
                const int32_t left = seg_starts[i + 1] - r;
                tiles[n].row0 = r;
                tiles[n].rows = left < rows_per_tile ? left : rows_per_tile;
                tiles[n].slot = slot;
                tiles[n].seg = i;
            }
            ++n;
        }
    }
    return n;
}

}  // namespace olora_cuda

#endif
