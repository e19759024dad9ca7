// NF4 GEMV under OLORA_COMPUTE_BF16 (M <= kNf4Bf16FmaMaxM, K % 64 == 0) with float32 FMAs on the bfloat16-rounded
// operands: the products of nf4_bf16dot_avx512.cpp (x and the code book rounded to bfloat16; each product is exact
// in float32), summed in another order. Intel Xeons since Sapphire Rapids issue `vdpbf16ps` zmm once per two cycles
// against two FMAs a cycle; on one (Emerald Rapids, no AMX exposed) the dot kernel ran a 1024 x 1024 layer in L2 at
// 11 GB/s of codes a core and this one at 14 (native-kernels/BENCHMARKS.md). AMD Zen 4/5 issue the dots at the FMA
// rate and keep the dot kernel (olora_set_bf16_gemv).
//
// Each 64-byte step of a W row is two blocks, 16 dwords of 8 nibbles. `vpermps` looks a float32 code up from bits 3:0
// of each dword, so lookup q (0..7) of a step reads nibble q of every dword: the low nibbles of bytes 4d + o come from
// a load at byte offset o (o = 0..3; bits 3:0 of each dword are its first byte's low nibble) and the high nibbles
// from that load shifted right by 4. Four shifts for eight lookups, where shifting one load would take seven. The
// last step of a row shifts one load instead: a load at offset o would read o bytes past the row, and past the
// array on its last row. Lanes 0-7 of every lookup hold block 2p, lanes 8-15 block 2p + 1: one FMA a step applies
// both blocks' absmax.
#include "simd.h"

namespace olora {
namespace {

// The code book rounded to bfloat16, as float32.
struct Bf16CodeFloats {
    alignas(64) float v[16];
    Bf16CodeFloats() {
        for (int j = 0; j < 16; ++j) {
            const uint32_t u = static_cast<uint32_t>(f32_to_bf16(kNf4CodeBook[j])) << 16;
            std::memcpy(&v[j], &u, 4);
        }
    }
};
const Bf16CodeFloats kCodes;

// The permutex2var indices of the 16 x 8 transpose that puts element 8d + q of a step's 128 x values at lane d of
// vector q. Element e starts in vector e / 16, lane e % 16; stage s swaps bit s of the vector index with bit s of
// the lane index, and the last stage also moves the lanes from order (d0 d3 d2 d1) to (d3 d2 d1 d0).
struct TransposeIndex {
    alignas(64) int32_t lo[3][16], hi[3][16];
    TransposeIndex() {
        for (int s = 0; s < 3; ++s)
            for (int j = 0; j < 16; ++j) {
                // The lane each output lane j reads, before the reordering of the last stage.
                int src = j;
                if (s == 2) src = ((j & 1) << 3) | (j >> 1);  // lane (d3 d2 d1 d0) from lane (d0 d3 d2 d1)
                const int bit = 1 << s;
                lo[s][j] = (src & bit) ? 16 + (src & ~bit) : src;
                hi[s][j] = (src & bit) ? 16 + src : (src | bit);
            }
    }
};
const TransposeIndex kTranspose;

// Rounds 16 floats to bfloat16 (nearest even, as vcvtneps2bf16 rounds the dot kernel's x) and widens them back.
OLORA_TARGET_AVX512 inline __m512 round_bf16(__m512 v) {
    const __m256bh h = _mm512_cvtneps_pbh(v);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(reinterpret_cast<const __m256i&>(h)), 16));
}

// 64 code bytes at q as 16 dwords; `bytes` < 64 reads only those and leaves the rest zero.
OLORA_TARGET_AVX512 inline __m512i load_codes(const uint8_t* q, int bytes) {
    return bytes == 64 ? _mm512_loadu_si512(q) : _mm512_maskz_loadu_epi8(~0ULL >> (64 - bytes), q);
}

// W rows [n, n + R) against M rows of x (xf: per row, k / 128 rounded up steps of 8 x 16 floats).
template <int M, int R>
OLORA_TARGET_AVX512 void gemv_group(const float* xf, int64_t xf_row, int k, const uint8_t* codes, const float* absmax,
                                    int n, float* y, int64_t ldy, bool acc) {
    const __m512 lut = _mm512_load_ps(kCodes.v);
    const int nblk = k / 64, nstep = (nblk + 1) / 2;
    const Nf4RowGroup<R> rows(codes, absmax, n, k);
    __m512 s[M][R];
    zero_sums(s);
    // Step p of row r: lookup(q) is lookup q; the products go to two chains per row of x.
    auto step = [&](int r, int p, auto lookup) OLORA_TARGET_AVX512 {
        __m512 t[M][2];
        OLORA_UNROLL
        for (int i = 0; i < M; ++i) t[i][0] = t[i][1] = _mm512_setzero_ps();
        OLORA_UNROLL
        for (int q = 0; q < 8; ++q) {
            const __m512 c = lookup(q);
            OLORA_UNROLL
            for (int i = 0; i < M; ++i)
                t[i][q & 1] = _mm512_fmadd_ps(c, _mm512_load_ps(xf + i * xf_row + 128 * p + 16 * q), t[i][q & 1]);
        }
        const float* a = rows.absmax(r) + 2 * p;
        // A lone last block: lanes 8-15 multiplied zeros of x; its absmax alone is in bounds.
        const __m512 av = 2 * p + 1 < nblk ? pair_absmax(rows.absmax(r), p) : _mm512_set1_ps(*a);
        OLORA_UNROLL
        for (int i = 0; i < M; ++i) s[i][r] = _mm512_fmadd_ps(_mm512_add_ps(t[i][0], t[i][1]), av, s[i][r]);
    };
    for (int p = 0; p + 1 < nstep; ++p) {
        rows.prefetch(p, 64, 2);
        OLORA_UNROLL
        for (int r = 0; r < R; ++r) {
            const uint8_t* q = rows.codes(r) + 64 * p;
            __m512i w[4];
            OLORA_UNROLL
            for (int o = 0; o < 4; ++o) w[o] = _mm512_loadu_si512(q + o);
            step(r, p, [&](int j) OLORA_TARGET_AVX512 {
                const __m512i v = j & 1 ? _mm512_srli_epi32(w[j / 2], 4) : w[j / 2];
                return _mm512_permutexvar_ps(v, lut);
            });
        }
    }
    const int p = nstep - 1, bytes = nblk % 2 ? 32 : 64;
    OLORA_UNROLL
    for (int r = 0; r < R; ++r) {
        const __m512i w = load_codes(rows.codes(r) + 64 * p, bytes);
        step(r, p, [&](int j) OLORA_TARGET_AVX512 {
            // Nibble j of each dword: byte j / 2, its high nibble for odd j.
            return _mm512_permutexvar_ps(_mm512_srli_epi32(w, 4 * j), lut);
        });
    }
    store_row_sums<M, R>(s, y, ldy, n, acc);
}

template <int M>
void gemv_rows(const float* xf, int64_t xf_row, int k, const uint8_t* codes, const float* absmax, int n0, int n1,
               float* y, int64_t ldy, bool acc) {
    // M x R sums, M x 2 chains, the table and a lookup within the 32 zmm registers.
    static_assert(M <= kNf4Bf16FmaMaxM);
    constexpr int R = M <= 2 ? 4 : 2;
    int n = n0;
    for (; n + R <= n1; n += R) gemv_group<M, R>(xf, xf_row, k, codes, absmax, n, y, ldy, acc);
    for (; n < n1; ++n) gemv_group<M, 1>(xf, xf_row, k, codes, absmax, n, y, ldy, acc);
}

using GemvFn = void (*)(const float*, int64_t, int, const uint8_t*, const float*, int, int, float*, int64_t, bool);

}  // namespace

OLORA_TARGET_AVX512 bool nf4_x_to_bf16_fma(const float* x, int64_t ldx, int m, int k, Nf4Bf16Step* out) {
    const int nblk = k / 64, nstep = (nblk + 1) / 2;
    __m512i lo[3], hi[3];
    for (int s = 0; s < 3; ++s) {
        lo[s] = _mm512_load_si512(kTranspose.lo[s]);
        hi[s] = _mm512_load_si512(kTranspose.hi[s]);
    }
    for (int i = 0; i < m; ++i) {
        const float* xr = x + i * ldx;
        Nf4Bf16Step* xo = out + static_cast<int64_t>(i) * nstep;
        for (int p = 0; p < nstep; ++p) {
            const int have = 2 * p + 1 < nblk ? 8 : 4;  // vectors of x; a lone last block is padded with zeros
            __m512 v[8];
            __mmask16 bad = 0;
            for (int j = 0; j < 8; ++j) {
                v[j] = j < have ? _mm512_loadu_ps(xr + 128 * p + 16 * j) : _mm512_setzero_ps();
                bad |= bf16_dot_loses(v[j]);
                v[j] = round_bf16(v[j]);
            }
            if (bad) return false;
            for (int s = 0; s < 3; ++s) {
                const int bit = 1 << s;
                __m512 u[8];
                for (int a = 0; a < 8; ++a) {
                    if (a & bit) continue;
                    u[a] = _mm512_permutex2var_ps(v[a], lo[s], v[a | bit]);
                    u[a | bit] = _mm512_permutex2var_ps(v[a], hi[s], v[a | bit]);
                }
                for (int a = 0; a < 8; ++a) v[a] = u[a];
            }
            // Lookup q reads the nibble of element 8d + (q ^ 1) (the high nibble is the even element).
            for (int q = 0; q < 8; ++q) _mm512_store_ps(xo[p].v + 16 * (q ^ 1), v[q]);
        }
    }
    return true;
}

void nf4_gemv_bf16fma_avx512(const Nf4Bf16Step* xs, int m, int k, const uint8_t* codes, const float* absmax, int n0,
                             int n1, float* y, int64_t ldy, bool accumulate) {
    static const GemvFn tab[kNf4Bf16FmaMaxM] = {gemv_rows<1>, gemv_rows<2>, gemv_rows<3>, gemv_rows<4>};
    tab[m - 1](xs[0].v, static_cast<int64_t>((k / 64 + 1) / 2) * 128, k, codes, absmax, n0, n1, y, ldy, accumulate);
}

}  // namespace olora
