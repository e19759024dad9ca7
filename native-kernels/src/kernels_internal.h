// Internal declarations shared by the CPU kernel sources (not part of the C ABI).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "olora_kernels.h"
#include "thread_pool.h"

#define OLORA_TARGET_AVX512 \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,avx512vnni,avx2,fma,f16c")))
#define OLORA_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace olora {

// ---- ISA dispatch (cpu_dispatch.cpp) ----
int active_isa();
// Whether the paths that AVX-512 takes apply (AMX is AVX-512 plus the tile path).
inline bool avx512_paths(int isa) { return isa == OLORA_ISA_AVX512 || isa == OLORA_ISA_AMX; }
// A compute mode the quantized linears' _ex entry points accept.
inline bool known_compute(int32_t compute) {
    return compute == OLORA_COMPUTE_F32 || compute == OLORA_COMPUTE_BF16 || compute == OLORA_COMPUTE_INT8;
}
// The quantized linears' argument checks: OLORA_E_ARGUMENT, kNothingToDo for m == 0 (whose
// pointers may be null), else OLORA_OK. `weights` and `scales` are the layer's two arrays.
constexpr int32_t kNothingToDo = 1;
inline int32_t check_quant_linear(const float* x, int64_t x_row_stride, const float* y, int64_t y_row_stride, int32_t m,
                                  int32_t n, int32_t k, const void* weights, const float* scales, int32_t compute) {
    if (m < 0 || n < 1 || k < 1 || !known_compute(compute)) return OLORA_E_ARGUMENT;
    if (m == 0) return kNothingToDo;
    if (!x || !y || !weights || !scales || x_row_stride < k || y_row_stride < n) return OLORA_E_ARGUMENT;
    return OLORA_OK;
}

// olora_paged_attention_decode's argument checks for num_seqs >= 1 sequences (paged_attention_cpu.cpp):
// OLORA_OK, with the key positions the call reads in *keys (when not null), or OLORA_E_ARGUMENT.
int32_t check_decode_attention(int32_t dtype, const float* q, int64_t q_stride, const float* out, int64_t out_stride,
                               const void* k_pool, const void* v_pool, int64_t num_blocks, int32_t block_size,
                               const int32_t* block_tables, int64_t bt_stride, int32_t max_blocks,
                               const int32_t* context_lens, int32_t num_seqs, int32_t num_heads, int32_t kv_heads,
                               int32_t head_dim, int32_t window, int64_t* keys);

// The largest LoRA rank the SGMV kernels take (olora_kernels.h: max_rank 1..4096).
constexpr int32_t kMaxLoraRank = 4096;

// ---- bf16 helpers ----
inline float bf16_to_f32(uint16_t h) {
    uint32_t u = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
inline uint16_t f32_to_bf16(float f) {  // round to nearest even, NaN stays NaN
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return static_cast<uint16_t>(u >> 16);
}

// Calls f(TA{}, TB{}) with TA, TB = float or uint16_t (bf16 storage) as dtype codes a and b
// name: one place that maps a pair of operand dtypes to the template instantiation.
template <typename F>
inline void with_dtypes(int a, int b, F&& f) {
    const bool ab = a == OLORA_DTYPE_BF16, bb = b == OLORA_DTYPE_BF16;
    if (ab && bb) f(uint16_t{}, uint16_t{});
    else if (ab) f(uint16_t{}, float{});
    else if (bb) f(float{}, uint16_t{});
    else f(float{}, float{});
}

extern const float kNf4CodeBook[16];

// ---- Matrix kernels, one set per ISA (gemm_scalar.cpp, gemm_avx2.cpp, gemm_avx512.cpp) ----
// NT product: c[i, j] (=|+=) sum_k x[i, k] * w[j, k] for i < m, j < n. X and W are each f32 or
// bf16 (x_dtype, w_dtype: float32 activations may meet bf16 LoRA tables), c is float32.
using GemmNtFn = void (*)(int x_dtype, int w_dtype, const void* x, int64_t ldx, const void* w, int64_t ldw, float* c,
                          int64_t ldc, int m, int n, int k, bool accumulate);
// Expand: y[i, j] += scale * sum_k v[i, k] * b[k, j] for i < m, j in [j0, j1); b and y each f32
// or bf16 (b_dtype, y_dtype), v float32.
using ExpandFn = void (*)(int b_dtype, int y_dtype, const float* v, int64_t ldv, const void* b, int64_t ldb, void* y,
                          int64_t ldy, int m, int r, int j0, int j1, float scale);

void gemm_nt_scalar(int x_dtype, int w_dtype, const void* x, int64_t ldx, const void* w, int64_t ldw, float* c, int64_t ldc,
                    int m, int n, int k, bool accumulate);
void gemm_nt_avx2(int x_dtype, int w_dtype, const void* x, int64_t ldx, const void* w, int64_t ldw, float* c, int64_t ldc,
                  int m, int n, int k, bool accumulate);
void gemm_nt_avx512(int x_dtype, int w_dtype, const void* x, int64_t ldx, const void* w, int64_t ldw, float* c, int64_t ldc,
                    int m, int n, int k, bool accumulate);
void expand_scalar(int b_dtype, int y_dtype, const float* v, int64_t ldv, const void* b, int64_t ldb, void* y, int64_t ldy,
                   int m, int r, int j0, int j1, float scale);
void expand_avx2(int b_dtype, int y_dtype, const float* v, int64_t ldv, const void* b, int64_t ldb, void* y, int64_t ldy,
                 int m, int r, int j0, int j1, float scale);
void expand_avx512(int b_dtype, int y_dtype, const float* v, int64_t ldv, const void* b, int64_t ldb, void* y, int64_t ldy,
                   int m, int r, int j0, int j1, float scale);

GemmNtFn gemm_nt_for(int isa);
ExpandFn expand_for(int isa);

// ---- Quantized kernels (nf4_*.cpp, int8_*.cpp) ----
// Fused GEMV for m <= kFusedMaxM rows, W rows [n0, n1). NF4 requires k % 64 == 0 and x given
// deinterleaved: for row i, xd + i*k holds x[i, 0], x[i, 2], ... (k/2 values) then x[i, 1], x[i, 3] ...
constexpr int kFusedMaxM = 8;
// W rows per call of the small-M kernels, n1 - n0 <= kQuantTaskRows (they keep that many rows of
// partial sums on the stack), and the unit of for_row_tasks' ranges.
constexpr int kQuantTaskRows = 16;
// Runs fn(r0, r1) over W rows [0, n) on the pool (parallel_ranges): each thread streams its share of
// consecutive rows, one contiguous run of weights, with the kernels' next-group prefetch running ahead, in
// chunks of an eighth of the share (16 to 256 rows), and a thread that runs out takes the back half of what
// another has left. Each call covers at most `piece` rows (0: a whole chunk; kQuantTaskRows for a kernel
// that keeps partial sums per row). Fixed tasks, two per thread, left the faster vCPU of the 2-core EPYC
// waiting for the slower one's last task: 3.9 us on jobs of about 21 us in the NF4 decode step
// (docs/BENCHMARKS.md); 16-row tasks stalled on memory at the start of each one.
template <typename F>
void for_row_tasks(int n, int piece, const F& fn) {
    const int chunk = std::clamp(n / num_threads() / 8 / kQuantTaskRows * kQuantTaskRows, kQuantTaskRows,
                                 16 * kQuantTaskRows);
    parallel_ranges(n, kQuantTaskRows, chunk, [&](int64_t r0, int64_t r1) {
        const int n0 = static_cast<int>(r0), n1 = static_cast<int>(r1);
        const int step = piece > 0 ? piece : n1 - n0;
        for (int p = n0; p < n1; p += step) fn(p, p + step < n1 ? p + step : n1);
    });
}
// Decode GEMVs (M <= 2) call this after their job with the weights they read, region 0 first: per calling thread it
// learns which weights followed these last time, and has the pool's idle threads prefetch those
// (prefetch_when_idle) while the caller runs the step's serial work: norms, RoPE, the managed code between two
// GEMVs. A decode step reads its weights in the same order every time (weight_prefetch.cpp).
constexpr int kMaxWeightRegions = 2;
constexpr int64_t kDefaultIdlePrefetchBytes = int64_t(1024) << 10;
void decode_weights_read(const PrefetchRegion* regions, int count);
// NF4: m <= 2 (kNf4SmallMinM - 1) only.
void nf4_gemv_avx512(const float* xd, int m, int k, const uint8_t* codes, const float* absmax, int n0, int n1,
                     float* y, int64_t ldy, bool accumulate);
// Same, kNf4SmallMinM <= m <= kNf4SmallMaxM: each block decoded once per few W rows and applied to all m rows. xd
// rows are padded: row i's even elements start at xd + i*(k + kSmallPad), its odd elements
// kSmallPad/2 floats after the even ones end (so the 2m x streams do not share L1 sets when k is a
// multiple of 1024).
constexpr int kNf4SmallMinM = 3, kNf4SmallMaxM = 8;
constexpr int kSmallPad = 32;
void nf4_gemm_small_avx512(const float* xd, int m, int k, const uint8_t* codes, const float* absmax, int n0, int n1,
                           float* y, int64_t ldy, bool accumulate);
// OLORA_COMPUTE_INT8 NF4 GEMV (nf4_int8dot_avx512.cpp), m <= 8, k % 64 == 0: x quantized per
// 64-value block to int8, laid out per pair of blocks (128 values) as the kernel's 64-byte loads of
// codes split them: `even` holds elements 0, 2, ... 62 of block 2p then of block 2p + 1, `odd` the
// odd ones; `corr` lanes 0 and 8 offset the two blocks' dots for the unsigned code table, `scale`
// lanes 0-7 / 8-15 are the blocks' x scales over 127^2. With an odd number of blocks the last
// pair holds one block and zeros.
struct alignas(64) Nf4QxPair {
    int8_t even[64];
    int8_t odd[64];
    int32_t corr[16];
    float scale[16];
};
// Quantizes m rows of x (row stride ldx) into out[m * ceil(k / 128)]; false if x holds a non-finite
// value or a block whose max|x| is too small to scale (< ~3.7e-37): the caller then takes the other
// paths (float32 kernels or AMX tiles), which propagate non-finite values.
constexpr int kNf4Int8MaxM = kFusedMaxM;
bool nf4_quantize_x_int8(const float* x, int64_t ldx, int m, int k, Nf4QxPair* out);
void nf4_gemv_int8_avx512(const Nf4QxPair* qx, int m, int k, const uint8_t* codes, const float* absmax, int n0, int n1,
                          float* y, int64_t ldy, bool accumulate);
// OLORA_COMPUTE_BF16 NF4 GEMV (nf4_bf16dot_avx512.cpp), m <= 8, k % 64 == 0: x rounded to bfloat16
// (nearest even) by nf4_x_to_bf16 into m rows of k / 64 blocks, each block's 32 even elements then its 32 odd
// ones; but for m <= kNf4Bf16PairMaxM, blocks 2p and 2p + 1 hold their 128 elements in the pair kernel's
// nibble order, word 32c + j element 4j + 1, 4j, 4j + 3, 4j + 2 for c = 0..3 (a last odd block stays as
// above). nf4_x_to_bf16 is false (out partly written) when x holds a nonzero |x| below 2^-100 or a finite
// one that rounds to inf: the caller then takes the float32 kernels. NaN and inf pass through.
struct alignas(64) Nf4Bf16Block {
    uint16_t w[64];
};
constexpr int kNf4Bf16MaxM = kFusedMaxM;
constexpr int kNf4Bf16PairMaxM = 2;
bool nf4_x_to_bf16(const float* x, int64_t ldx, int m, int k, Nf4Bf16Block* out);
void nf4_gemv_bf16_avx512(const Nf4Bf16Block* xb, int m, int k, const uint8_t* codes, const float* absmax, int n0,
                          int n1, float* y, int64_t ldy, bool accumulate);
// The same with float32 FMAs (nf4_bf16fma_avx512.cpp), where vdpbf16ps runs at half the FMA rate
// (bf16_gemv_uses_fma): nf4_x_to_bf16_fma rounds x as nf4_x_to_bf16 does, and fails on the same x, into m rows of
// ceil(k / 128) steps, step p holding element 128p + 8d + (q ^ 1) at v[16q + d] (zeros past k).
struct alignas(64) Nf4Bf16Step {
    float v[128];
};
bool nf4_x_to_bf16_fma(const float* x, int64_t ldx, int m, int k, Nf4Bf16Step* out);
void nf4_gemv_bf16fma_avx512(const Nf4Bf16Step* xs, int m, int k, const uint8_t* codes, const float* absmax, int n0,
                             int n1, float* y, int64_t ldy, bool accumulate);
// Whether the OLORA_COMPUTE_BF16 NF4 GEMV takes the FMA kernel (olora_set_bf16_gemv, cpu_dispatch.cpp).
bool bf16_gemv_uses_fma();
void nf4_dequant_rows_avx512(const uint8_t* codes, const float* absmax, int k, int n0, int n1, float* out);
void int8_gemv_avx512(const float* x, int64_t ldx, int m, int k, const int8_t* q, const float* scales, int n0,
                      int n1, float* y, int64_t ldy, bool accumulate);
void int8_dequant_rows_avx512(const int8_t* q, const float* scales, int k, int n0, int n1, float* out);

// ---- AMX-BF16 quantized linears (quant_amx.cpp) ----
// CPU has AMX-TILE and AMX-BF16, the OS enabled the tile state, and Linux granted it to this process.
bool amx_supported();
// Fewest rows of x for the tile path (measured on 4096 x 4096): NF4 from 6 rows (at 8 the tiles took
// 1.9-2.5 ms against the fused small-M kernel's 3.5-3.8; at 5 they tied; at 4 the fused kernel won),
// int8 from 9 (its fused kernel tied the tiles at 5-8 rows).
constexpr int kAmxMinMNf4 = 6, kAmxMinMInt8 = kFusedMaxM + 1;
// y (=|+=) x · Wᵀ for m >= 1 rows; NF4 needs k % 64 == 0, int8 k % 32 == 0.
void nf4_linear_amx(const float* x, int64_t ldx, float* y, int64_t ldy, int m, int n, int k, const uint8_t* codes,
                    const float* absmax, bool accumulate);
void int8_linear_amx(const float* x, int64_t ldx, float* y, int64_t ldy, int m, int n, int k, const int8_t* q,
                     const float* scales, bool accumulate);

// ---- bfloat16 dot products for the quantized linears without AMX (quant_bf16dot_avx512.cpp) ----
// W rows [n0, n1) dequantized and rounded to bfloat16 into out (row stride k): NF4 (k % 64 == 0) as code times the
// block's absmax, int8 (k % 32 == 0) as q times the row's scale. The AMX path's operands too.
void nf4_rows_bf16(const uint8_t* codes, const float* absmax, int k, int n0, int n1, uint16_t* out);
void int8_rows_bf16(const int8_t* q, const float* scales, int k, int n0, int n1, uint16_t* out);
// Runs fn(n0, n1, w) on the pool for each group of `group` W rows [n0, n1) of n, w holding them as bfloat16 rows of
// k (dequant(n0, n1, w) fills them) in a per-thread buffer of group rows; the rows past n1 hold whatever was there.
template <typename Dequant, typename F>
void for_bf16_row_groups(int n, int k, int group, const Dequant& dequant, const F& fn) {
    parallel_for((n + group - 1) / group, [&](int64_t g) {
        thread_local std::vector<uint16_t> wbuf;
        wbuf.resize(static_cast<size_t>(group) * k);
        const int n0 = static_cast<int>(g) * group, n1 = std::min(n, n0 + group);
        dequant(n0, n1, wbuf.data());
        fn(n0, n1, wbuf.data());
    });
}
// OLORA_COMPUTE_BF16 from this many rows of x on AVX-512 without AMX (the M <= kFusedMaxM GEMVs serve fewer).
constexpr int kBf16DotMinM = kFusedMaxM + 1;
// y (=|+=) x · Wᵀ in bfloat16 dot products with float32 sums, as the AMX path computes it; NF4 needs k % 64 == 0,
// int8 k % 32 == 0. False, with nothing written to y, when x holds a value bfloat16 would lose (a nonzero |x| below
// 2^-100 or a finite one past the largest bfloat16): the float32 paths then serve the call.
bool nf4_linear_bf16dot(const float* x, int64_t ldx, float* y, int64_t ldy, int m, int n, int k, const uint8_t* codes,
                        const float* absmax, bool accumulate);
bool int8_linear_bf16dot(const float* x, int64_t ldx, float* y, int64_t ldy, int m, int n, int k, const int8_t* q,
                         const float* scales, bool accumulate);

// Row tile driver shared by the dense/quantized linears (linear_cpu.cpp): for each task of
// `rows_per_tile` W rows, `fill` writes the rows as float32 [rows, k] into a per-thread buffer (or
// returns a pointer to them), then the NT micro-kernel multiplies.
struct TileSource {
    // Returns a pointer to rows [n0, n1) as float32 with row stride *ld; may use buf
    // (capacity (n1-n0)*k floats).
    virtual const float* rows(int n0, int n1, float* buf, int64_t* ld) const = 0;
    virtual ~TileSource() = default;
};
void linear_tiled(const float* x, int64_t ldx, float* y, int64_t ldy, int m, int n, int k, bool accumulate,
                  const TileSource& src);

}  // namespace olora
