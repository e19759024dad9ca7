// Run-time choice of the SIMD path (CPUID via __builtin_cpu_supports; AMX in quant_amx.cpp) and the thread count.
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "fused_ops.h"
#include "kernels_internal.h"
#include "thread_pool.h"

namespace olora {
namespace {

int detect() {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512vnni"))
        return amx_supported() ? OLORA_ISA_AMX : OLORA_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return OLORA_ISA_AVX2;
#endif
    return OLORA_ISA_SCALAR;
}

int initial() {
    const int best = detect();
    if (const char* e = std::getenv("OLORA_ISA")) {
        int want = 0;
        if (!std::strcmp(e, "scalar")) want = OLORA_ISA_SCALAR;
        else if (!std::strcmp(e, "avx2")) want = OLORA_ISA_AVX2;
        else if (!std::strcmp(e, "avx512")) want = OLORA_ISA_AVX512;
        else if (!std::strcmp(e, "amx")) want = OLORA_ISA_AMX;
        if (want != 0 && want <= best) return want;
    }
    return best;
}

std::atomic<int>& isa_slot() {
    static std::atomic<int> isa{initial()};
    return isa;
}

// OLORA_BF16_GEMV_FMA on Intel: its Xeons since Sapphire Rapids issue vdpbf16ps zmm once per two cycles against
// two FMAs a cycle (native-kernels/BENCHMARKS.md). Every Intel CPU gets it: the other Intel cores with AVX-512 BF16
// (Cooper Lake) were not measured. Others, AMD Zen 4/5 among them, run the dots at the FMA rate.
int default_bf16_gemv() {
#if defined(__x86_64__)
    __builtin_cpu_init();
    const int vendor = __builtin_cpu_is("intel") ? OLORA_BF16_GEMV_FMA : OLORA_BF16_GEMV_DOT;
#else
    const int vendor = OLORA_BF16_GEMV_DOT;
#endif
    if (const char* e = std::getenv("OLORA_BF16_GEMV")) {
        if (!std::strcmp(e, "dot")) return OLORA_BF16_GEMV_DOT;
        if (!std::strcmp(e, "fma")) return OLORA_BF16_GEMV_FMA;
    }
    return vendor;
}

std::atomic<int>& bf16_gemv_slot() {
    static std::atomic<int> route{default_bf16_gemv()};
    return route;
}

}  // namespace

bool bf16_gemv_uses_fma() { return bf16_gemv_slot().load(std::memory_order_relaxed) == OLORA_BF16_GEMV_FMA; }

int active_isa() { return isa_slot().load(std::memory_order_relaxed); }

GemmNtFn gemm_nt_for(int isa) {
    switch (isa) {
        case OLORA_ISA_AMX:  // AMX only adds the quantized linears' tile path
        case OLORA_ISA_AVX512: return gemm_nt_avx512;
        case OLORA_ISA_AVX2: return gemm_nt_avx2;
        default: return gemm_nt_scalar;
    }
}

ExpandFn expand_for(int isa) {
    switch (isa) {
        case OLORA_ISA_AMX:
        case OLORA_ISA_AVX512: return expand_avx512;
        case OLORA_ISA_AVX2: return expand_avx2;
        default: return expand_scalar;
    }
}

const FusedOps& fused_ops() {
    switch (active_isa()) {
        case OLORA_ISA_AMX:
        case OLORA_ISA_AVX512: return fused_ops_avx512();
        case OLORA_ISA_AVX2: return fused_ops_avx2();
        default: return fused_ops_scalar();
    }
}

}  // namespace olora

extern "C" OLORA_API int32_t olora_detect_isa(void) { return olora::detect(); }

extern "C" OLORA_API int32_t olora_get_isa(void) { return olora::active_isa(); }

extern "C" OLORA_API int32_t olora_set_isa(int32_t isa) {
    const int best = olora::detect();
    if (isa == OLORA_ISA_AUTO) isa = best;
    if (isa < OLORA_ISA_SCALAR || isa > OLORA_ISA_AMX || isa > best) return OLORA_E_ARGUMENT;
    olora::isa_slot().store(isa, std::memory_order_relaxed);
    return OLORA_OK;
}

extern "C" OLORA_API int32_t olora_set_bf16_gemv(int32_t route) {
    if (route == OLORA_BF16_GEMV_AUTO) route = olora::default_bf16_gemv();
    if (route != OLORA_BF16_GEMV_DOT && route != OLORA_BF16_GEMV_FMA) return OLORA_E_ARGUMENT;
    olora::bf16_gemv_slot().store(route, std::memory_order_relaxed);
    return OLORA_OK;
}

extern "C" OLORA_API int32_t olora_get_bf16_gemv(void) {
    return olora::bf16_gemv_slot().load(std::memory_order_relaxed);
}

extern "C" OLORA_API int32_t olora_set_num_threads(int32_t n) {
    if (n < 0 || n > 256) return OLORA_E_ARGUMENT;
    olora::set_num_threads(n);
    return OLORA_OK;
}

extern "C" OLORA_API int32_t olora_get_num_threads(void) { return olora::num_threads(); }
