// NF4 GEMV under OLORA_COMPUTE_BF16 (M <= 8, K % 64 == 0) with float32 FMAs on the bfloat16-rounded operands: the
// numbers of nf4_bf16dot_avx512.cpp (x and the code book rounded to bfloat16, sums in float32), rounded in another
// order. Intel Xeons since Sapphire Rapids issue `vdpbf16ps` zmm once per two cycles against two FMAs a cycle; on one
// (Emerald Rapids, AMX not exposed) the dot kernel ran a 1024 x 1024 layer in L2 at 11 GB/s of codes a core and this
// one at 14, and at 4-8 rows of x this one is 1.3-1.5x faster (native-kernels/BENCHMARKS.md). AMD Zen 4/5 issue the
// dots at the FMA rate and keep the dot kernel (olora_set_bf16_gemv).
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
        for (int j = 0; j < 16; ++j) v[j] = bf16_to_f32(f32_to_bf16(kNf4CodeBook[j]));
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

// Rows of x up to which each W row's step sums its products in two chains per row of x (below).
constexpr int kChainMaxM = 2;

// Rounds 16 floats to bfloat16 (nearest even, as vcvtneps2bf16 rounds the dot kernel's x) and widens them back.
OLORA_TARGET_AVX512 inline __m512 round_bf16(__m512 v) {
    const __m256bh h = _mm512_cvtneps_pbh(v);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(reinterpret_cast<const __m256i&>(h)), 16));
}

// 64 code bytes at q as 16 dwords; `bytes` < 64 reads only those and leaves the rest zero.
OLORA_TARGET_AVX512 inline __m512i load_codes(const uint8_t* q, int bytes) {
    return bytes == 64 ? _mm512_loadu_si512(q) : _mm512_maskz_loadu_epi8(~0ULL >> (64 - bytes), q);
}

// The absmax of step p of W row r in lanes 0-7 (block 2p) and 8-15 (block 2p + 1); a lone last block's alone, whose
// lanes 8-15 multiply zeros of x.
template <int R>
OLORA_TARGET_AVX512 inline __m512 step_absmax(const Nf4RowGroup<R>& rows, int r, int p, int nblk) {
    return 2 * p + 1 < nblk ? pair_absmax(rows.absmax(r), p) : _mm512_set1_ps(rows.absmax(r)[2 * p]);
}

// W rows [n, n + R) against M rows of x (xf: per row, k / 128 rounded up steps of 8 x 16 floats). Up to kChainMaxM
// rows of x, each W row's step sums its products in two chains per row of x and applies the absmax once; from more
// rows, each lookup is scaled by its absmax first and each x vector is loaded once for the R W rows: a multiply per
// lookup where the chains take an add and an FMA per row of x, and M x R independent sums (4096 x 4096, two threads:
// M = 4 scaled 0.72 ms, chains 0.94; M = 2 scaled 0.55, chains 0.51).
template <int M, int R>
OLORA_TARGET_AVX512 void gemv_group(const float* xf, int64_t xf_row, int k, const uint8_t* codes, const float* absmax,
                                    int n, float* y, int64_t ldy, bool acc) {
    const __m512 lut = _mm512_load_ps(kCodes.v);
    const int nblk = k / 64, nstep = (nblk + 1) / 2;
    const Nf4RowGroup<R> rows(codes, absmax, n, k);
    __m512 s[M][R];
    zero_sums(s);
    // Step p of the R rows: lookup(r, q) is row r's lookup q.
    auto step = [&](int p, auto lookup) OLORA_TARGET_AVX512 {
        const float* xp = xf + 128 * p;
        if constexpr (M <= kChainMaxM) {
            OLORA_UNROLL
            for (int r = 0; r < R; ++r) {
                __m512 t[M][2];
                OLORA_UNROLL
                for (int i = 0; i < M; ++i) t[i][0] = t[i][1] = _mm512_setzero_ps();
                OLORA_UNROLL
                for (int q = 0; q < 8; ++q) {
                    const __m512 c = lookup(r, q);
                    OLORA_UNROLL
                    for (int i = 0; i < M; ++i)
                        t[i][q & 1] = _mm512_fmadd_ps(c, _mm512_load_ps(xp + i * xf_row + 16 * q), t[i][q & 1]);
                }
                const __m512 av = step_absmax(rows, r, p, nblk);
                OLORA_UNROLL
                for (int i = 0; i < M; ++i) s[i][r] = _mm512_fmadd_ps(_mm512_add_ps(t[i][0], t[i][1]), av, s[i][r]);
            }
        } else {
            __m512 av[R];
            OLORA_UNROLL
            for (int r = 0; r < R; ++r) av[r] = step_absmax(rows, r, p, nblk);
            OLORA_UNROLL
            for (int q = 0; q < 8; ++q) {
                __m512 c[R];
                OLORA_UNROLL
                for (int r = 0; r < R; ++r) c[r] = _mm512_mul_ps(lookup(r, q), av[r]);
                OLORA_UNROLL
                for (int i = 0; i < M; ++i) {
                    const __m512 xv = _mm512_load_ps(xp + i * xf_row + 16 * q);
                    OLORA_UNROLL
                    for (int r = 0; r < R; ++r) s[i][r] = _mm512_fmadd_ps(c[r], xv, s[i][r]);
                }
            }
        }
    };
    for (int p = 0; p + 1 < nstep; ++p) {
        rows.prefetch(p, 64, 2);
        step(p, [&](int r, int q) OLORA_TARGET_AVX512 {
            const __m512i w = _mm512_loadu_si512(rows.codes(r) + 64 * p + q / 2);
            return _mm512_permutexvar_ps(q & 1 ? _mm512_srli_epi32(w, 4) : w, lut);
        });
    }
    const int p = nstep - 1, bytes = nblk % 2 ? 32 : 64;
    rows.prefetch(p, 64, 2);
    __m512i w[R];
    OLORA_UNROLL
    for (int r = 0; r < R; ++r) w[r] = load_codes(rows.codes(r) + 64 * p, bytes);
    step(p, [&](int r, int q) OLORA_TARGET_AVX512 {
        // Nibble q of each dword: byte q / 2, its high nibble for odd q.
        return _mm512_permutexvar_ps(_mm512_srli_epi32(w[r], 4 * q), lut);
    });
    store_row_sums<M, R>(s, y, ldy, n, acc);
}

template <int M>
void gemv_rows(const float* xf, int64_t xf_row, int k, const uint8_t* codes, const float* absmax, int n0, int n1,
               float* y, int64_t ldy, bool acc) {
    // M x R sums (and M x 2 chains, or R lookups and R absmax), the table and an x vector in the 32 zmm registers.
    constexpr int R = M <= 4 ? 4 : 3;
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
    static const GemvFn tab[kNf4Bf16MaxM] = {gemv_rows<1>, gemv_rows<2>, gemv_rows<3>, gemv_rows<4>,
                                             gemv_rows<5>, gemv_rows<6>, gemv_rows<7>, gemv_rows<8>};
    tab[m - 1](xs[0].v, static_cast<int64_t>((k / 64 + 1) / 2) * 128, k, codes, absmax, n0, n1, y, ldy, accumulate);
}

}  // namespace olora
