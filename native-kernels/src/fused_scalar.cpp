// The fused decode-step kernels (fused_impl.h) over plain floats: the portable fallback.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "fused_ops.h"
#include "kernels_internal.h"

namespace olora {
namespace {

struct V {
    using R = float;
    static constexpr int W = 1;
    static constexpr int kRegs = 16;

    static R zero() { return 0.f; }
    static R set1(float x) { return x; }
    static R load(const float* p) { return *p; }
    static R loadn(const float* p, int n) { return n > 0 ? *p : 0.f; }
    static R loadn_or(const float* p, int n, float fill) { return n > 0 ? *p : fill; }
    static void store(float* p, R v) { *p = v; }
    static void storen(float* p, R v, int n) {
        if (n > 0) *p = v;
    }
    static R load_bf16(const uint16_t* p) { return bf16_to_f32(*p); }
    static R loadn_bf16(const uint16_t* p, int n) { return n > 0 ? bf16_to_f32(*p) : 0.f; }
    static void store_bf16(uint16_t* p, R v) { *p = f32_to_bf16(v); }
    static void storen_bf16(uint16_t* p, R v, int n) {
        if (n > 0) *p = f32_to_bf16(v);
    }
    static R add(R a, R b) { return a + b; }
    static R sub(R a, R b) { return a - b; }
    static R mul(R a, R b) { return a * b; }
    static R div(R a, R b) { return a / b; }
    static R fma(R a, R b, R c) { return a * b + c; }  // two roundings here: no FMA unit assumed
    static R max(R a, R b) { return a > b ? a : b; }
    static float reduce_add(R v) { return v; }
    static float reduce_max(R v) { return v; }
    static float lane0(R v) { return v; }
    static void reduce4(R a, R b, R c, R d, float* out) {
        out[0] = a;
        out[1] = b;
        out[2] = c;
        out[3] = d;
    }
    static bool any_nan(R v) { return v != v; }
    static int first_match(R v, float m) { return (v == m || v != v) ? 0 : -1; }
    static int first_above(R v, float t) { return (v > t || v != v) ? 0 : -1; }
    static constexpr bool kLibmExp = true;  // exp below; the vector types take fused_impl.h's
    static R exp(R x) { return std::exp(x); }
};

#include "fused_impl.h"

}  // namespace

const FusedOps& fused_ops_scalar() {
    static const FusedOps ops = make_ops();
    return ops;
}

}  // namespace olora
