// olora_check_finite: where an adapter's weights first hold a value the engine refuses (NaN, ±Inf,
// or a magnitude above a bound). Runs once per tensor when an adapter is registered and loaded, so
// it must cost no more than reading the bytes: a single pass of integer compares on the bit
// patterns. With the sign bit cleared, IEEE binary formats order by bit pattern (denormals,
// normals, Inf, then every NaN payload), so "NaN, Inf or |v| > bound" is one unsigned compare
// against the bit pattern of the largest accepted magnitude. No floating-point compare is made, so
// denormals-are-zero modes and NaN payloads cannot change the answer.
#include <algorithm>
#include <cmath>

#include "simd.h"

namespace olora {
namespace {

// Exact float16 -> float32 (all finite values, including denormals).
float f16_to_f32(uint16_t h) {
    const int exponent = (h >> 10) & 0x1f;
    const int mantissa = h & 0x3ff;
    const float magnitude = exponent == 0 ? std::ldexp(static_cast<float>(mantissa), -24)
                                          : std::ldexp(static_cast<float>(mantissa | 0x400), exponent - 25);
    return (h & 0x8000) ? -magnitude : magnitude;
}

// Sign-cleared bit pattern of the largest accepted magnitude, per storage format. Finite max_abs
// >= 0, or +Inf for "finite values only" (then the largest finite pattern).
uint32_t limit_f32(float max_abs) {
    uint32_t bits;
    std::memcpy(&bits, &max_abs, 4);
    return std::min(bits, 0x7f7fffffu);
}
// bf16 is the upper half of a float32: x = h << 16 exceeds the float32 limit L exactly when h > L >> 16.
uint16_t limit_bf16(uint32_t l32) { return static_cast<uint16_t>(l32 >> 16); }
// The largest finite float16 pattern whose value is <= max_abs (patterns are ordered, so bisect).
uint16_t limit_f16(float max_abs) {
    if (max_abs < f16_to_f32(1)) return 0;  // below the smallest denormal: only zeros pass
    uint32_t lo = 1, hi = 0x7bff;            // f16(lo) <= max_abs holds; find the last such pattern
    while (lo < hi) {
        const uint32_t mid = (lo + hi + 1) / 2;
        if (f16_to_f32(static_cast<uint16_t>(mid)) <= max_abs) lo = mid;
        else hi = mid - 1;
    }
    return static_cast<uint16_t>(lo);
}

template <typename T>
int64_t first_above_scalar(const T* p, int64_t n, T absmask, T limit) {
    for (int64_t i = 0; i < n; ++i)
        if (static_cast<T>(p[i] & absmask) > limit) return i;
    return n;
}

// AVX2: 4 vectors per iteration; the masked values are <= 0x7fffffff (0x7fff), so the signed
// compare orders them as unsigned.
OLORA_TARGET_AVX2 int64_t first_above_avx2_32(const uint32_t* p, int64_t n, uint32_t limit) {
    const __m256i mask = _mm256_set1_epi32(0x7fffffff), lim = _mm256_set1_epi32(static_cast<int>(limit));
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i bad[4];
        for (int v = 0; v < 4; ++v) {
            const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 8 * v));
            bad[v] = _mm256_cmpgt_epi32(_mm256_and_si256(x, mask), lim);
        }
        const __m256i any = _mm256_or_si256(_mm256_or_si256(bad[0], bad[1]), _mm256_or_si256(bad[2], bad[3]));
        if (!_mm256_testz_si256(any, any)) {
            for (int v = 0; v < 4; ++v)
                if (const unsigned m = static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(bad[v]))))
                    return i + 8 * v + __builtin_ctz(m);
        }
    }
    return i + first_above_scalar<uint32_t>(p + i, n - i, 0x7fffffffu, limit);
}

OLORA_TARGET_AVX2 int64_t first_above_avx2_16(const uint16_t* p, int64_t n, uint16_t limit) {
    const __m256i mask = _mm256_set1_epi16(0x7fff), lim = _mm256_set1_epi16(static_cast<short>(limit));
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m256i bad[4];
        for (int v = 0; v < 4; ++v) {
            const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 16 * v));
            bad[v] = _mm256_cmpgt_epi16(_mm256_and_si256(x, mask), lim);
        }
        const __m256i any = _mm256_or_si256(_mm256_or_si256(bad[0], bad[1]), _mm256_or_si256(bad[2], bad[3]));
        if (!_mm256_testz_si256(any, any)) {
            for (int v = 0; v < 4; ++v)  // two mask bits per 16-bit lane
                if (const unsigned m = static_cast<unsigned>(_mm256_movemask_epi8(bad[v])))
                    return i + 16 * v + __builtin_ctz(m) / 2;
        }
    }
    return i + first_above_scalar<uint16_t>(p + i, n - i, 0x7fff, limit);
}

// AVX-512: unsigned compares into mask registers; the tail is a masked load (masked-off lanes read
// as zero, which never exceeds a limit).
OLORA_TARGET_AVX512 int64_t first_above_avx512_32(const uint32_t* p, int64_t n, uint32_t limit) {
    const __m512i mask = _mm512_set1_epi32(0x7fffffff), lim = _mm512_set1_epi32(static_cast<int>(limit));
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __mmask16 bad[4];
        for (int v = 0; v < 4; ++v)
            bad[v] = _mm512_cmpgt_epu32_mask(_mm512_and_si512(_mm512_loadu_si512(p + i + 16 * v), mask), lim);
        if ((bad[0] | bad[1] | bad[2] | bad[3]) != 0) {
            for (int v = 0; v < 4; ++v)
                if (bad[v]) return i + 16 * v + __builtin_ctz(bad[v]);
        }
    }
    for (; i < n; i += 16) {
        const __mmask16 live = n - i >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (n - i)) - 1);
        const __m512i x = _mm512_maskz_loadu_epi32(live, p + i);
        if (const __mmask16 bad = _mm512_cmpgt_epu32_mask(_mm512_and_si512(x, mask), lim)) return i + __builtin_ctz(bad);
    }
    return n;
}

OLORA_TARGET_AVX512 int64_t first_above_avx512_16(const uint16_t* p, int64_t n, uint16_t limit) {
    const __m512i mask = _mm512_set1_epi16(0x7fff), lim = _mm512_set1_epi16(static_cast<short>(limit));
    int64_t i = 0;
    for (; i + 128 <= n; i += 128) {
        __mmask32 bad[4];
        for (int v = 0; v < 4; ++v)
            bad[v] = _mm512_cmpgt_epu16_mask(_mm512_and_si512(_mm512_loadu_si512(p + i + 32 * v), mask), lim);
        if ((bad[0] | bad[1] | bad[2] | bad[3]) != 0) {
            for (int v = 0; v < 4; ++v)
                if (bad[v]) return i + 32 * v + __builtin_ctz(bad[v]);
        }
    }
    for (; i < n; i += 32) {
        const __mmask32 live = n - i >= 32 ? __mmask32(0xffffffffu) : static_cast<__mmask32>((1u << (n - i)) - 1);
        const __m512i x = _mm512_maskz_loadu_epi16(live, p + i);
        if (const __mmask32 bad = _mm512_cmpgt_epu16_mask(_mm512_and_si512(x, mask), lim)) return i + __builtin_ctz(bad);
    }
    return n;
}

int64_t first_above_32(const uint32_t* p, int64_t n, uint32_t limit) {
    const int isa = active_isa();
    if (avx512_paths(isa)) return first_above_avx512_32(p, n, limit);
    if (isa == OLORA_ISA_AVX2) return first_above_avx2_32(p, n, limit);
    return first_above_scalar<uint32_t>(p, n, 0x7fffffffu, limit);
}

int64_t first_above_16(const uint16_t* p, int64_t n, uint16_t limit) {
    const int isa = active_isa();
    if (avx512_paths(isa)) return first_above_avx512_16(p, n, limit);
    if (isa == OLORA_ISA_AVX2) return first_above_avx2_16(p, n, limit);
    return first_above_scalar<uint16_t>(p, n, 0x7fff, limit);
}

}  // namespace
}  // namespace olora

using namespace olora;

extern "C" OLORA_API int64_t olora_check_finite(int32_t dtype, const void* data, int64_t n, float max_abs) {
    const bool known = dtype == OLORA_DTYPE_F32 || dtype == OLORA_DTYPE_BF16 || dtype == OLORA_DTYPE_F16;
    if (!known || n < 0 || std::isnan(max_abs) || max_abs < 0.f) return OLORA_E_ARGUMENT;
    if (n == 0) return 0;
    if (!data) return OLORA_E_ARGUMENT;
    const uint32_t l32 = limit_f32(max_abs);
    switch (dtype) {
        case OLORA_DTYPE_F32: return first_above_32(static_cast<const uint32_t*>(data), n, l32);
        case OLORA_DTYPE_BF16: return first_above_16(static_cast<const uint16_t*>(data), n, limit_bf16(l32));
        default: return first_above_16(static_cast<const uint16_t*>(data), n, limit_f16(max_abs));
    }
}
