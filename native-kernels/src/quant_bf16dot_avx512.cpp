// bfloat16 dot products for the quantized linears from kBf16DotMinM rows of x on AVX-512 CPUs without AMX tiles
// (AMD Zen 4/5: AVX512_BF16 but no AMX). There the float32 tiled path is bound by FMA throughput (decode batches of
// 9+ and prefill: the small preset's NF4 step at batch 32 ran at ~210 GFLOP/s, the machine's float32 GEMM rate), and
// vdpbf16ps does twice the multiply-adds per instruction. The numbers are the AMX path's (OLORA_COMPUTE_BF16): W
// dequantized and rounded to bfloat16 (code times absmax, or q times scale), x rounded to bfloat16 once per call,
// products summed in float32; only the order of the sums differs.
//
// Each task dequantizes a group of W rows to bfloat16 (L2-resident) and multiplies it with x in register blocks of
// 4 W rows by 6 x rows: 24 accumulators along k, each reduced once at the end (4 x 4 ran 5-13 % slower at M = 16-32:
// more loads per dot product). x is swept in chunks of about 1 MB, each by every group.
#include <algorithm>
#include <vector>

#include "kernels_internal.h"
#include "simd.h"

namespace olora {
namespace {

constexpr int kGroupRows = 32;  // W rows per task
constexpr int kK = 32;          // bf16 values of k per vector
constexpr int64_t kXChunkBytes = 1 << 20;  // bf16 x rows swept by every W group at once: an L2's worth

OLORA_TARGET_AVX512 inline __m512bh load_bh(const uint16_t* p) {
    const __m512i v = _mm512_loadu_si512(p);
    return reinterpret_cast<const __m512bh&>(v);
}

// out[0:4] = the horizontal sums of a, b, c, d.
OLORA_TARGET_AVX512 inline void sum4(__m512 a, __m512 b, __m512 c, __m512 d, float* out) {
    const __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));  // per lane: a0+a2 b0+b2 ..
    const __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
    const __m512 abcd = _mm512_add_ps(_mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(1, 0, 1, 0)),
                                      _mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(3, 2, 3, 2)));  // per 128-bit lane: a b c d
    const __m256 half = _mm256_add_ps(_mm512_castps512_ps256(abcd), _mm512_extractf32x8_ps(abcd, 1));
    _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(half), _mm256_extractf128_ps(half, 1)));
}

// y[i0 + i, n0 + r] (+)= W row r (bf16, w + r * k) · x row i0 + i (bf16, xb + (i0 + i) * k), r < RB, i < IB.
template <int RB, int IB>
OLORA_TARGET_AVX512 void dot_block(const uint16_t* w, const uint16_t* xb, int k, int i0, int n0, float* y, int64_t ldy,
                                   bool acc) {
    __m512 s[RB][IB];
    for (int r = 0; r < RB; ++r)
        for (int i = 0; i < IB; ++i) s[r][i] = _mm512_setzero_ps();
    for (int e = 0; e < k; e += kK) {
        __m512bh wv[RB];
        for (int r = 0; r < RB; ++r) wv[r] = load_bh(w + static_cast<int64_t>(r) * k + e);
        for (int i = 0; i < IB; ++i) {
            const __m512bh xv = load_bh(xb + static_cast<int64_t>(i0 + i) * k + e);
            for (int r = 0; r < RB; ++r) s[r][i] = _mm512_dpbf16_ps(s[r][i], wv[r], xv);
        }
    }
    for (int i = 0; i < IB; ++i) {
        alignas(16) float t[4];
        const __m512 z = _mm512_setzero_ps();
        sum4(s[0][i], RB > 1 ? s[RB > 1 ? 1 : 0][i] : z, RB > 2 ? s[RB > 2 ? 2 : 0][i] : z,
             RB > 3 ? s[RB > 3 ? 3 : 0][i] : z, t);
        float* yr = y + static_cast<int64_t>(i0 + i) * ldy + n0;
        for (int r = 0; r < RB; ++r) yr[r] = acc ? yr[r] + t[r] : t[r];
    }
}

// y rows [i0, i0 + IB), columns [n0, n1) from the group's bf16 W rows (row n at w + (n - n0) * k).
template <int IB>
OLORA_TARGET_AVX512 void x_rows_times_group(const uint16_t* w, const uint16_t* xb, int k, int i0, int n0, int n1,
                                            float* y, int64_t ldy, bool acc) {
    int n = n0;
    for (; n + 4 <= n1; n += 4) dot_block<4, IB>(w + static_cast<int64_t>(n - n0) * k, xb, k, i0, n, y, ldy, acc);
    switch (n1 - n) {
        case 3:
            dot_block<3, IB>(w + static_cast<int64_t>(n - n0) * k, xb, k, i0, n, y, ldy, acc);
            break;
        case 2:
            dot_block<2, IB>(w + static_cast<int64_t>(n - n0) * k, xb, k, i0, n, y, ldy, acc);
            break;
        case 1:
            dot_block<1, IB>(w + static_cast<int64_t>(n - n0) * k, xb, k, i0, n, y, ldy, acc);
            break;
        default:
            break;
    }
}

// y rows [0, m), columns [n0, n1) from the group's bf16 W rows, W rows outermost (RB of them stay in L1 while x passes).
template <int RB>
OLORA_TARGET_AVX512 void w_rows_times_x(const uint16_t* w, const uint16_t* xb, int m, int k, int n0, float* y,
                                        int64_t ldy, bool acc) {
    int i = 0;
    for (; i + 6 <= m; i += 6) dot_block<RB, 6>(w, xb, k, i, n0, y, ldy, acc);
    for (; i + 4 <= m; i += 4) dot_block<RB, 4>(w, xb, k, i, n0, y, ldy, acc);
    switch (m - i) {
        case 3:
            dot_block<RB, 3>(w, xb, k, i, n0, y, ldy, acc);
            break;
        case 2:
            dot_block<RB, 2>(w, xb, k, i, n0, y, ldy, acc);
            break;
        case 1:
            dot_block<RB, 1>(w, xb, k, i, n0, y, ldy, acc);
            break;
        default:
            break;
    }
}

// Up to this many rows of x, the W rows go outermost; from more, the x rows (measured on 4096 x 4096, alternated:
// x outermost 8 % slower at 16 rows, 4-10 % faster at 32, 10-15 % at 256).
constexpr int kWOuterMaxM = 16;

// y rows [0, m), columns [n0, n1) from the group's bf16 W rows. For more than a few rows of x, x rows go outermost: a
// block of 6 stays in L1 while the group (L2) passes by, so x is read once per group rather than once per 4 W rows.
OLORA_TARGET_AVX512 void group_times_x(const uint16_t* w, const uint16_t* xb, int m, int k, int n0, int n1, float* y,
                                       int64_t ldy, bool acc) {
    if (m <= kWOuterMaxM) {
        int n = n0;
        for (; n + 4 <= n1; n += 4) w_rows_times_x<4>(w + static_cast<int64_t>(n - n0) * k, xb, m, k, n, y, ldy, acc);
        switch (n1 - n) {
            case 3:
                w_rows_times_x<3>(w + static_cast<int64_t>(n - n0) * k, xb, m, k, n, y, ldy, acc);
                break;
            case 2:
                w_rows_times_x<2>(w + static_cast<int64_t>(n - n0) * k, xb, m, k, n, y, ldy, acc);
                break;
            case 1:
                w_rows_times_x<1>(w + static_cast<int64_t>(n - n0) * k, xb, m, k, n, y, ldy, acc);
                break;
            default:
                break;
        }
        return;
    }
    int i = 0;
    for (; i + 6 <= m; i += 6) x_rows_times_group<6>(w, xb, k, i, n0, n1, y, ldy, acc);
    for (; i + 4 <= m; i += 4) x_rows_times_group<4>(w, xb, k, i, n0, n1, y, ldy, acc);
    switch (m - i) {
        case 3:
            x_rows_times_group<3>(w, xb, k, i, n0, n1, y, ldy, acc);
            break;
        case 2:
            x_rows_times_group<2>(w, xb, k, i, n0, n1, y, ldy, acc);
            break;
        case 1:
            x_rows_times_group<1>(w, xb, k, i, n0, n1, y, ldy, acc);
            break;
        default:
            break;
    }
}

// x [m, k] float32 -> bfloat16 rows of k (nearest even), in W's element order: natural, or with `split` each block of
// 64 as its 32 even elements then its 32 odd ones (the order nf4_rows_bf16_split gives, which a dot product does not
// mind when both operands share it). False, with out partly written, when x holds a value the bfloat16 dots would
// lose (bf16_dot_loses).
OLORA_TARGET_AVX512 bool x_to_bf16(const float* x, int64_t ldx, int m, int k, bool split, uint16_t* out) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    auto store = [](uint16_t* o, __m512 lo, __m512 hi) OLORA_TARGET_AVX512 {
        const __m512bh v = _mm512_cvtne2ps_pbh(hi, lo);
        _mm512_storeu_si512(o, reinterpret_cast<const __m512i&>(v));
    };
    const int step = split ? 64 : kK;
    for (int i = 0; i < m; ++i) {
        const float* xr = x + i * ldx;
        uint16_t* o = out + static_cast<int64_t>(i) * k;
        for (int e = 0; e < k; e += step) {
            if (!split) {
                const __m512 lo = _mm512_loadu_ps(xr + e), hi = _mm512_loadu_ps(xr + e + 16);
                if (bf16_dot_loses(lo) | bf16_dot_loses(hi)) return false;
                store(o + e, lo, hi);
                continue;
            }
            const __m512 v0 = _mm512_loadu_ps(xr + e), v1 = _mm512_loadu_ps(xr + e + 16);
            const __m512 v2 = _mm512_loadu_ps(xr + e + 32), v3 = _mm512_loadu_ps(xr + e + 48);
            if (bf16_dot_loses(v0) | bf16_dot_loses(v1) | bf16_dot_loses(v2) | bf16_dot_loses(v3)) return false;
            store(o + e, _mm512_permutex2var_ps(v0, even, v1), _mm512_permutex2var_ps(v2, even, v3));
            store(o + e + 32, _mm512_permutex2var_ps(v0, odd, v1), _mm512_permutex2var_ps(v2, odd, v3));
        }
    }
    return true;
}

// For each block of NF4 rows [n0, n1) (k % 64 == 0: every block within one row), block(its 32 code bytes, its 16 code-
// book values times its absmax rounded to bfloat16, its 64 output words), outputs at out + (n - n0) * k.
template <typename Block>
OLORA_TARGET_AVX512 inline void for_nf4_blocks(const uint8_t* codes, const float* absmax, int k, int n0, int n1,
                                               uint16_t* out, const Block& block) {
    const __m512 cb = _mm512_loadu_ps(kNf4CodeBook);
    for (int n = n0; n < n1; ++n) {
        const int64_t g0 = static_cast<int64_t>(n) * k;
        const uint8_t* cp = codes + g0 / 2;
        const float* am = absmax + g0 / 64;
        uint16_t* o = out + static_cast<int64_t>(n - n0) * k;
        for (int b = 0; b < k / 64; ++b)
            block(cp + b * 32, (__m256i)_mm512_cvtneps_pbh(_mm512_mul_ps(cb, _mm512_set1_ps(am[b]))), o + b * 64);
    }
}

// NF4 rows [n0, n1) -> bf16 rows of k, each block of 64 as its 32 even elements then its 32 odd ones: a byte's high
// nibble is an even element, its low nibble the next one, so one word per byte indexes both through vpermw (index
// bits 4:0, hence the table of 16 scaled codes twice) without reordering anything.
OLORA_TARGET_AVX512 void nf4_rows_bf16_split(const uint8_t* codes, const float* absmax, int k, int n0, int n1,
                                             uint16_t* out) {
    for_nf4_blocks(codes, absmax, k, n0, n1, out, [](const uint8_t* cp, __m256i half, uint16_t* o) OLORA_TARGET_AVX512 {
        const __m512i table = _mm512_inserti64x4(_mm512_castsi256_si512(half), half, 1);
        const __m512i w = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(cp)));
        _mm512_storeu_si512(o, _mm512_permutexvar_epi16(_mm512_srli_epi16(w, 4), table));
        _mm512_storeu_si512(o + 32, _mm512_permutexvar_epi16(w, table));
    });
}

template <typename Dequant>
bool bf16dot_linear(const float* x, int64_t ldx, float* y, int64_t ldy, int m, int n, int k, bool acc, bool split,
                    Dequant dequant) {
    thread_local std::vector<uint16_t> xb;  // the caller's; the workers only read it
    xb.resize(static_cast<size_t>(m) * k);
    if (!x_to_bf16(x, ldx, m, k, split, xb.data())) return false;
    // x in chunks of about kXChunkBytes, each swept by every W group: a prefill's x (8-23 MB on the small preset at
    // 4,096 rows) would otherwise stream from memory once per 32-row group. W is dequantized again for each chunk,
    // a few percent of the dots' work at these rows.
    const int chunk = std::max(6, static_cast<int>(kXChunkBytes / (static_cast<int64_t>(k) * 2)) / 6 * 6);
    for (int i0 = 0; i0 < m; i0 += chunk) {
        const int rows = std::min(chunk, m - i0);
        const uint16_t* xp = xb.data() + static_cast<int64_t>(i0) * k;
        float* yc = y + static_cast<int64_t>(i0) * ldy;
        for_bf16_row_groups(n, k, kGroupRows, dequant, [&](int n0, int n1, const uint16_t* w) {
            group_times_x(w, xp, rows, k, n0, n1, yc, ldy, acc);
        });
    }
    return true;
}

}  // namespace

// NF4 rows [n0, n1) -> bf16 rows of k in natural order (the AMX path's operand). The block's scaled table is a word
// table that vpermw indexes with both nibbles of each byte at once (high nibble: even element, low: odd), giving the
// pairs in order.
OLORA_TARGET_AVX512 void nf4_rows_bf16(const uint8_t* codes, const float* absmax, int k, int n0, int n1,
                                       uint16_t* out) {
    for_nf4_blocks(codes, absmax, k, n0, n1, out, [](const uint8_t* cp, __m256i half, uint16_t* o) OLORA_TARGET_AVX512 {
        const __m512i table = _mm512_castsi256_si512(half);
        const __m512i low = _mm512_set1_epi32(0xF);
        for (int h = 0; h < 2; ++h) {
            const __m512i bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(cp + h * 16)));
            const __m512i idx =
                _mm512_or_si512(_mm512_srli_epi32(bytes, 4), _mm512_slli_epi32(_mm512_and_si512(bytes, low), 16));
            _mm512_storeu_si512(o + h * 32, _mm512_permutexvar_epi16(idx, table));
        }
    });
}

// int8 rows [n0, n1) -> bf16 rows of k (k % 32 == 0): q times the row's scale, rounded to bf16.
OLORA_TARGET_AVX512 void int8_rows_bf16(const int8_t* q, const float* scales, int k, int n0, int n1, uint16_t* out) {
    for (int n = n0; n < n1; ++n) {
        const int8_t* qr = q + static_cast<int64_t>(n) * k;
        const __m512 s = _mm512_set1_ps(scales[n]);
        uint16_t* o = out + static_cast<int64_t>(n - n0) * k;
        for (int j = 0; j < k; j += 32) {
            const __m512 lo = _mm512_mul_ps(
                _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qr + j)))), s);
            const __m512 hi = _mm512_mul_ps(
                _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qr + j + 16)))),
                s);
            _mm512_storeu_si512(o + j, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
        }
    }
}

bool nf4_linear_bf16dot(const float* x, int64_t ldx, float* y, int64_t ldy, int m, int n, int k, const uint8_t* codes,
                        const float* absmax, bool accumulate) {
    return bf16dot_linear(x, ldx, y, ldy, m, n, k, accumulate, true,
                          [&](int n0, int n1, uint16_t* out) { nf4_rows_bf16_split(codes, absmax, k, n0, n1, out); });
}

bool int8_linear_bf16dot(const float* x, int64_t ldx, float* y, int64_t ldy, int m, int n, int k, const int8_t* q,
                         const float* scales, bool accumulate) {
    return bf16dot_linear(x, ldx, y, ldy, m, n, k, accumulate, false,
                          [&](int n0, int n1, uint16_t* out) { int8_rows_bf16(q, scales, k, n0, n1, out); });
}

}  // namespace olora
