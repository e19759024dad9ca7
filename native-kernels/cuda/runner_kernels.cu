// Decoder-layer kernels of the CUDA runner (olora_cuda_runner.h), bf16 storage / float32 math.
// Compiled in CI (CUDA 11.8, sm_80 + sm_90, no GPU); scripts/gpu-check.sh compares each with the CPU kernel
// of the same contract on a GPU (all passed on an H200, 2026-12-04, docs/GPU.md). The index math they share with the host
// (olora_cuda_math.h) is unit-tested on the CPU.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "olora_cuda_math.h"
#include "runner_internal.h"

namespace olora_cuda {
namespace {

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;  // in every lane
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum / max over a block of blockDim.x threads (a multiple of 32, <= 1024); the result is returned
// to every thread. Every thread of the block must call it.
template <bool Max>
__device__ float block_reduce(float v) {
    __shared__ float partial[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = Max ? warp_max(v) : warp_sum(v);
    __syncthreads();  // partial may still be read by a previous call
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    float r = lane < warps ? partial[lane] : (Max ? -INFINITY : 0.f);
    r = Max ? warp_max(r) : warp_sum(r);
    return r;
}

__device__ __forceinline__ float ld(const uint16_t* p) { return bf16_to_f32(*p); }

// ---------------------------------------------------------------------------------------------
__global__ void add_rmsnorm_kernel(const float* __restrict__ x, float* __restrict__ residual,
                                   const uint16_t* __restrict__ w, uint16_t* __restrict__ out, int hidden,
                                   float eps) {
    const int64_t base = int64_t(blockIdx.x) * hidden;
    float ss = 0.f;
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
        float h = residual[base + i];
        if (x) {
            h += x[base + i];
            residual[base + i] = h;
        }
        ss += h * h;
    }
    ss = block_reduce<false>(ss);
    const float inv = 1.f / sqrtf(ss / float(hidden) + eps);
    for (int i = threadIdx.x; i < hidden; i += blockDim.x)
        out[base + i] = f32_to_bf16(residual[base + i] * inv * ld(w + i));
}

__global__ void rope_tables_kernel(float* cos_t, float* sin_t, int max_positions, RopeParams p) {
    const int half = p.head_dim / 2;
    const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (idx >= int64_t(max_positions) * half) return;
    const int64_t pos = idx / half;
    const int i = int(idx % half);
    float c, s;
    rope_cos_sin(p, pos, i, &c, &s);
    cos_t[pos * p.head_dim + i] = cos_t[pos * p.head_dim + i + half] = c;
    sin_t[pos * p.head_dim + i] = sin_t[pos * p.head_dim + i + half] = s;
}

__global__ void rope_kernel(float* q, int64_t q_stride, int heads, float* k, int64_t k_stride, int kv_heads,
                            int head_dim, const int32_t* __restrict__ positions, const float* __restrict__ cos_t,
                            const float* __restrict__ sin_t) {
    const int t = blockIdx.x, half = head_dim / 2;
    const int64_t row = int64_t(positions[t]) * head_dim;
    for (int idx = threadIdx.x; idx < (heads + kv_heads) * half; idx += blockDim.x) {
        const int h = idx / half, i = idx % half;
        float* x = h < heads ? q + t * q_stride + h * head_dim : k + t * k_stride + (h - heads) * head_dim;
        rope_rotate(x + i, x + i + half, cos_t[row + i], sin_t[row + i]);
    }
}

__global__ void kv_append_kernel(const float* __restrict__ keys, int64_t ks, const float* __restrict__ values,
                                 int64_t vs, const int64_t* __restrict__ slots, uint16_t* k_pool, uint16_t* v_pool,
                                 KvGeom g) {
    const int t = blockIdx.x;
    const int64_t slot = slots[t];
    if (slot < 0) return;
    for (int idx = threadIdx.x; idx < g.kv_heads * g.head_dim; idx += blockDim.x) {
        const int h = idx / g.head_dim, e = idx % g.head_dim;
        const int64_t off = kv_offset(g, slot, h) + e;
        k_pool[off] = f32_to_bf16(keys[t * ks + idx]);
        v_pool[off] = f32_to_bf16(values[t * vs + idx]);
    }
}

// ---------------------------------------------------------------------------------------------
// Decode attention, split-K. Block (part, query head, sequence), kDecodeThreads threads: scores of
// up to kPart key positions (decode_part_size) in shared memory, then the part's softmax state into
// scratch: [seq][head][part] x (head_dim values, max, sum).
constexpr int kPart = 256;
constexpr int kDecodeThreads = 128;
constexpr int kMaxHeadDim = 256;

// One block per (part, query head, sequence). Scores: a thread per key, the whole dot product, in 16-byte
// loads of the key row when `vec` (head_dim % 8 == 0, aligned pools). Values: each warp takes every
// (warps)-th key of the part, a lane the dims lane, lane + 32, ...; the warps' sums meet in shared memory.
// The first version (a warp per key's dot product, then a thread per dim walking every key of the part
// alone) took 111 us a layer at batch 1 and 145 positions on an H200, a third of the step.
__device__ __forceinline__ float bf16_lo(uint32_t u) { return __uint_as_float(u << 16); }
__device__ __forceinline__ float bf16_hi(uint32_t u) { return __uint_as_float(u & 0xFFFF0000u); }

__global__ void decode_part_kernel(const float* __restrict__ q, int64_t q_stride, const uint16_t* __restrict__ k_pool,
                                   const uint16_t* __restrict__ v_pool, KvGeom g,
                                   const int32_t* __restrict__ block_tables, int64_t bt_stride,
                                   const int32_t* __restrict__ context_lens, int num_heads, int window, int parts,
                                   int part, int vec, float* __restrict__ scratch) {
    __shared__ float qs[kMaxHeadDim];
    __shared__ float scores[kPart];
    __shared__ float sums[kDecodeThreads / 32][kMaxHeadDim];
    const int p = blockIdx.x, hq = blockIdx.y, s = blockIdx.z;
    const int len = context_lens[s];
    const int first = len > 0 ? attn_first_key(len - 1, window) : 0;
    if (p >= attn_num_parts(first, len, part)) return;  // uniform over the block
    const int h = hq / (num_heads / g.kv_heads), d = g.head_dim;
    const int32_t* bt = block_tables + s * bt_stride;
    const float scale = 1.f / sqrtf(float(d));
    for (int e = threadIdx.x; e < d; e += blockDim.x) qs[e] = q[s * q_stride + hq * d + e];
    __syncthreads();
    const int lo = first + p * part, hi = min(len, lo + part);
    for (int j = lo + int(threadIdx.x); j < hi; j += blockDim.x) {
        const uint16_t* kr = k_pool + kv_offset(g, kv_slot(bt, j, g.block_size), h);
        float dot = 0.f;
        if (vec) {
            const uint4* k8 = reinterpret_cast<const uint4*>(kr);
            for (int c = 0; c < (d >> 3); ++c) {
                const uint4 u = __ldg(k8 + c);
                const float* qc = qs + 8 * c;
                dot = fmaf(qc[0], bf16_lo(u.x), dot);
                dot = fmaf(qc[1], bf16_hi(u.x), dot);
                dot = fmaf(qc[2], bf16_lo(u.y), dot);
                dot = fmaf(qc[3], bf16_hi(u.y), dot);
                dot = fmaf(qc[4], bf16_lo(u.z), dot);
                dot = fmaf(qc[5], bf16_hi(u.z), dot);
                dot = fmaf(qc[6], bf16_lo(u.w), dot);
                dot = fmaf(qc[7], bf16_hi(u.w), dot);
            }
        } else {
            for (int e = 0; e < d; ++e) dot = fmaf(qs[e], ld(kr + e), dot);
        }
        scores[j - lo] = dot * scale;
    }
    __syncthreads();
    float m = -INFINITY;
    for (int j = threadIdx.x; j < hi - lo; j += blockDim.x) m = fmaxf(m, scores[j]);
    m = block_reduce<true>(m);
    float l = 0.f;
    for (int j = threadIdx.x; j < hi - lo; j += blockDim.x) {
        const float e = expf(scores[j] - m);
        scores[j] = e;
        l += e;
    }
    l = block_reduce<false>(l);  // its barriers also publish scores[]
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    float acc[kMaxHeadDim / 32];
#pragma unroll
    for (int i = 0; i < kMaxHeadDim / 32; ++i) acc[i] = 0.f;
    for (int j = lo + warp; j < hi; j += warps) {
        const float w = scores[j - lo];
        const uint16_t* vr = v_pool + kv_offset(g, kv_slot(bt, j, g.block_size), h);
#pragma unroll
        for (int i = 0; i < kMaxHeadDim / 32; ++i)
            if (lane + 32 * i < d) acc[i] = fmaf(w, ld(vr + lane + 32 * i), acc[i]);
    }
#pragma unroll
    for (int i = 0; i < kMaxHeadDim / 32; ++i)
        if (lane + 32 * i < d) sums[warp][lane + 32 * i] = acc[i];
    __syncthreads();
    float* out = scratch + ((int64_t(s) * num_heads + hq) * parts + p) * (d + 2);
    for (int e = threadIdx.x; e < d; e += blockDim.x) {
        float v = 0.f;
        for (int w = 0; w < warps; ++w) v += sums[w][e];
        out[e] = v;
    }
    if (threadIdx.x == 0) {
        out[d] = m;
        out[d + 1] = l;
    }
}

__global__ void decode_merge_kernel(uint16_t* __restrict__ out, int64_t out_stride, const int32_t* context_lens,
                                    int num_heads, int head_dim, int window, int parts, int part,
                                    const float* __restrict__ scratch) {
    const int hq = blockIdx.x, s = blockIdx.y;
    const int len = context_lens[s];
    const int first = len > 0 ? attn_first_key(len - 1, window) : 0;
    const int n = attn_num_parts(first, len, part);
    const float* base = scratch + (int64_t(s) * num_heads + hq) * parts * (head_dim + 2);
    float m = -INFINITY;
    for (int p = 0; p < n; ++p) m = fmaxf(m, base[p * (head_dim + 2) + head_dim]);
    float l = 0.f;
    for (int p = 0; p < n; ++p)
        l += base[p * (head_dim + 2) + head_dim + 1] * expf(base[p * (head_dim + 2) + head_dim] - m);
    for (int e = threadIdx.x; e < head_dim; e += blockDim.x) {
        float acc = 0.f;
        for (int p = 0; p < n; ++p)
            acc += base[p * (head_dim + 2) + e] * expf(base[p * (head_dim + 2) + head_dim] - m);
        out[s * out_stride + hq * head_dim + e] = f32_to_bf16(n > 0 ? acc / l : 0.f);
    }
}

// ---------------------------------------------------------------------------------------------
// Prefill attention, tiled: block (query tile of kTileRows rows, query head, sequence); each of the
// 4 warps owns kTileRows / 4 rows with q and the accumulator in registers (lane e holds dims
// e, e + 32, ...); keys and values pass through shared memory kChunk positions at a time.
constexpr int kTileRows = 16;
constexpr int kChunk = 16;
constexpr int kPrefillThreads = 128;
constexpr int kRowsPerWarp = kTileRows / (kPrefillThreads / 32);
constexpr int kDimsPerLane = kMaxHeadDim / 32;

__global__ void prefill_kernel(const float* __restrict__ q, int64_t q_stride, uint16_t* __restrict__ out,
                               int64_t out_stride, const uint16_t* __restrict__ k_pool,
                               const uint16_t* __restrict__ v_pool, KvGeom g, const int32_t* __restrict__ block_tables,
                               int64_t bt_stride, const int32_t* __restrict__ qsl,
                               const int32_t* __restrict__ context_lens, int num_heads, int window) {
    __shared__ float ks[kChunk][kMaxHeadDim];
    __shared__ float vs[kChunk][kMaxHeadDim];
    const int tile = blockIdx.x, hq = blockIdx.y, s = blockIdx.z;
    const int T = qsl[s + 1] - qsl[s], len = context_lens[s];
    const int t0 = tile * kTileRows;
    if (t0 >= T) return;  // uniform over the block
    const int d = g.head_dim, h = hq / (num_heads / g.kv_heads);
    const int32_t* bt = block_tables + s * bt_stride;
    const float scale = 1.f / sqrtf(float(d));
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int t_last = min(T, t0 + kTileRows) - 1;
    const int pos_first = len - T + t0, pos_last = len - T + t_last;

    float qr[kRowsPerWarp][kDimsPerLane], acc[kRowsPerWarp][kDimsPerLane], m[kRowsPerWarp], l[kRowsPerWarp];
    int pos[kRowsPerWarp];
    for (int r = 0; r < kRowsPerWarp; ++r) {
        const int t = t0 + warp * kRowsPerWarp + r;
        pos[r] = t < T ? len - T + t : -1;  // -1: padding row, sees nothing
        m[r] = -INFINITY;
        l[r] = 0.f;
        for (int i = 0; i < kDimsPerLane; ++i) {
            const int e = lane + 32 * i;
            qr[r][i] = (t < T && e < d) ? q[(qsl[s] + t) * q_stride + hq * d + e] * scale : 0.f;
            acc[r][i] = 0.f;
        }
    }
    for (int j0 = attn_first_key(pos_first, window); j0 <= pos_last; j0 += kChunk) {
        const int n = min(kChunk, pos_last + 1 - j0);
        __syncthreads();  // the previous chunk is consumed
        for (int idx = threadIdx.x; idx < n * d; idx += blockDim.x) {
            const int c = idx / d, e = idx % d;
            const int64_t off = kv_offset(g, kv_slot(bt, j0 + c, g.block_size), h) + e;
            ks[c][e] = ld(k_pool + off);
            vs[c][e] = ld(v_pool + off);
        }
        __syncthreads();
        for (int r = 0; r < kRowsPerWarp; ++r) {
            if (pos[r] < 0) continue;  // uniform per warp
            const int lo = attn_first_key(pos[r], window);
            for (int c = 0; c < n; ++c) {
                const int j = j0 + c;
                if (j < lo || j > pos[r]) continue;  // uniform per warp
                float dot = 0.f;
                for (int i = 0; i < kDimsPerLane; ++i) {
                    const int e = lane + 32 * i;
                    if (e < d) dot += qr[r][i] * ks[c][e];
                }
                dot = warp_sum(dot);
                const float mn = fmaxf(m[r], dot), corr = expf(m[r] - mn), pw = expf(dot - mn);
                l[r] = l[r] * corr + pw;
                for (int i = 0; i < kDimsPerLane; ++i) {
                    const int e = lane + 32 * i;
                    acc[r][i] = acc[r][i] * corr + (e < d ? pw * vs[c][e] : 0.f);
                }
                m[r] = mn;
            }
        }
    }
    for (int r = 0; r < kRowsPerWarp; ++r) {
        if (pos[r] < 0) continue;
        const int t = t0 + warp * kRowsPerWarp + r;
        for (int i = 0; i < kDimsPerLane; ++i) {
            const int e = lane + 32 * i;
            if (e < d) out[(qsl[s] + t) * out_stride + hq * d + e] = f32_to_bf16(l[r] > 0 ? acc[r][i] / l[r] : 0.f);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rows in gridDim.x (up to 2^31 - 1; gridDim.y stops at 65535), columns in y.
__global__ void swiglu_kernel(const float* __restrict__ gu, uint16_t* __restrict__ out, int inter) {
    const int64_t r = blockIdx.x;
    const int i = blockIdx.y * blockDim.x + threadIdx.x;
    if (i >= inter) return;
    const float gate = gu[r * 2 * inter + i], up = gu[r * 2 * inter + inter + i];
    out[r * inter + i] = f32_to_bf16(gate / (1.f + expf(-gate)) * up);
}

// SGMV shrink: block (tile, rank index k); its threads split the input features of each row of the tile
// and reduce in shared memory. A warp per rank index (the first version) left a decode step's rank-16 shrink
// with 16 warps on the whole GPU, each walking 4096-14336 features alone (one adapter added 8.5 ms to a
// batch-1 Mistral-7B step on an H200, ~38 us per projection).
// Blocks past a slot's rank return at once, so one launch serves ranks 1..max_rank.
constexpr int kShrinkThreads = 256;

__global__ void sgmv_shrink_kernel(const uint16_t* __restrict__ x, int64_t ldx, float* __restrict__ v, int64_t ldv,
                                   const SgmvTile* __restrict__ tiles, const uint16_t* __restrict__ a_table,
                                   int max_rank, int in, const int32_t* __restrict__ ranks, int vec) {
    const SgmvTile t = tiles[blockIdx.x];
    const int k = blockIdx.y;
    if (k >= ranks[t.slot]) return;  // uniform per block, before any barrier
    const uint16_t* a = a_table + (int64_t(t.slot) * max_rank + k) * in;
    for (int row = t.row0; row < t.row0 + t.rows; ++row) {
        const uint16_t* xr = x + row * ldx;
        float s = 0.f;
        if (vec) {  // 8 features a thread per step, in 16-byte loads
            const uint4* x8 = reinterpret_cast<const uint4*>(xr);
            const uint4* a8 = reinterpret_cast<const uint4*>(a);
            for (int c = threadIdx.x; c < (in >> 3); c += blockDim.x) {
                const uint4 u = __ldg(x8 + c), w = __ldg(a8 + c);
                s = fmaf(bf16_lo(u.x), bf16_lo(w.x), s);
                s = fmaf(bf16_hi(u.x), bf16_hi(w.x), s);
                s = fmaf(bf16_lo(u.y), bf16_lo(w.y), s);
                s = fmaf(bf16_hi(u.y), bf16_hi(w.y), s);
                s = fmaf(bf16_lo(u.z), bf16_lo(w.z), s);
                s = fmaf(bf16_hi(u.z), bf16_hi(w.z), s);
                s = fmaf(bf16_lo(u.w), bf16_lo(w.w), s);
                s = fmaf(bf16_hi(u.w), bf16_hi(w.w), s);
            }
        } else {
            for (int j = threadIdx.x; j < in; j += blockDim.x) s = fmaf(ld(xr + j), ld(a + j), s);
        }
        s = block_reduce<false>(s);
        if (threadIdx.x == 0) v[row * ldv + k] = s;
    }
}

// SGMV expand: block (tile, column tile of blockDim.x); thread per output column.
__global__ void sgmv_expand_kernel(const float* __restrict__ v, int64_t ldv, float* __restrict__ y, int64_t ldy,
                                   const SgmvTile* __restrict__ tiles, const uint16_t* __restrict__ b_table,
                                   int max_rank, int out, const int32_t* __restrict__ ranks,
                                   const float* __restrict__ scales) {
    const SgmvTile t = tiles[blockIdx.x];
    const int j = blockIdx.y * blockDim.x + threadIdx.x;
    if (j >= out) return;
    const int r = ranks[t.slot];
    const float scale = scales[t.slot];
    const uint16_t* b = b_table + int64_t(t.slot) * max_rank * out + j;
    for (int row = t.row0; row < t.row0 + t.rows; ++row) {
        float acc = 0.f;
        for (int k = 0; k < r; ++k) acc += v[row * ldv + k] * ld(b + int64_t(k) * out);
        y[row * ldy + j] += scale * acc;
    }
}

// Quantized GEMV: warp per (x row, W row), 8 warps per block.
constexpr int kGemvWarps = 8;

__global__ void nf4_gemv_kernel(const uint16_t* __restrict__ x, int n, int k, const uint8_t* __restrict__ codes,
                                const float* __restrict__ absmax, float* __restrict__ y, int accumulate) {
    const int row = blockIdx.y, w = blockIdx.x * kGemvWarps + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (w >= n) return;
    const int64_t g0 = int64_t(w) * k;
    float s = 0.f;
    for (int j = lane; j < k; j += 32) s += ld(x + int64_t(row) * k + j) * nf4_decode(codes, absmax, g0 + j);
    s = warp_sum(s);
    if (lane == 0) {
        float* o = y + int64_t(row) * n + w;
        *o = accumulate ? *o + s : s;
    }
}

// The GEMVs for k % 64 == 0 (every real model; the kernels above take the rest): a warp per output feature
// and up to M rows of x per block, so each weight byte is read and decoded once for all the rows (the kernels
// above read it once per row). A lane takes 16 consecutive elements at a time: 8 NF4 code bytes and their one
// absmax, or 16 int8 codes, with 16 bf16 of x per row in two 16-byte loads. NF4's code book sits in shared
// memory: 16 words in 16 banks, so the lookups never conflict.
// s[r] gains the dot product of 16 decoded weights `wv` with elements 16c..16c+15 of x row r (two 16-byte loads;
// u[i] holds element 2i in its low half and 2i + 1 in its high half), for the block's `rows` rows. Scaled: the
// chunk's sum times `scale` (NF4's absmax, per 64 elements); else straight into s[r] (int8 scales per output row,
// applied at the end).
template <int M, bool Scaled>
__device__ __forceinline__ void rows_dot16(const uint16_t* __restrict__ xb, int k, int c, int rows, const float* wv,
                                           float scale, float* s) {
#pragma unroll
    for (int r = 0; r < M; ++r) {
        if (r < rows) {
            const uint4* xv = reinterpret_cast<const uint4*>(xb + int64_t(r) * k) + 2 * c;
            const uint4 a = __ldg(xv), b = __ldg(xv + 1);
            const uint32_t u[8] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w};
            float acc = Scaled ? 0.f : s[r];
#pragma unroll
            for (int i = 0; i < 8; ++i) {
                acc = fmaf(wv[2 * i], bf16_lo(u[i]), acc);
                acc = fmaf(wv[2 * i + 1], bf16_hi(u[i]), acc);
            }
            s[r] = Scaled ? fmaf(acc, scale, s[r]) : acc;
        }
    }
}

// Each row's warp sum, times `scale`, into (or onto, with accumulate) y[row0 + r][w] by lane 0.
template <int M>
__device__ __forceinline__ void store_rows(const float* s, float scale, int rows, int row0, int n, int w, int lane,
                                           float* __restrict__ y, int accumulate) {
#pragma unroll
    for (int r = 0; r < M; ++r) {
        if (r < rows) {
            const float v = warp_sum(s[r]) * scale;
            if (lane == 0) {
                float* o = y + int64_t(row0 + r) * n + w;
                *o = accumulate ? *o + v : v;
            }
        }
    }
}

template <int M>
__global__ void nf4_gemv_rows_kernel(const uint16_t* __restrict__ x, int m, int n, int k,
                                     const uint8_t* __restrict__ codes, const float* __restrict__ absmax,
                                     float* __restrict__ y, int accumulate) {
    __shared__ float book[16];
    if (threadIdx.x < 16) book[threadIdx.x] = nf4_code(int(threadIdx.x));
    __syncthreads();
    const int w = blockIdx.x * kGemvWarps + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    const int row0 = int(blockIdx.y) * M, rows = min(M, m - row0);
    if (w >= n) return;
    const uint2* wc = reinterpret_cast<const uint2*>(codes + int64_t(w) * (k >> 1));
    const float* am = absmax + int64_t(w) * (k >> 6);
    const uint16_t* xb = x + int64_t(row0) * k;
    float s[M];
#pragma unroll
    for (int r = 0; r < M; ++r) s[r] = 0.f;
    for (int c = lane; c < (k >> 4); c += 32) {
        const uint2 p = __ldg(wc + c);
        const float scale = __ldg(am + (c >> 2));
        float wv[16];
#pragma unroll
        for (int b = 0; b < 4; ++b) {  // byte b holds elements 2b (high nibble) and 2b + 1 (low)
            const uint32_t lo = (p.x >> (8 * b)) & 0xFFu, hi = (p.y >> (8 * b)) & 0xFFu;
            wv[2 * b] = book[lo >> 4];
            wv[2 * b + 1] = book[lo & 15u];
            wv[8 + 2 * b] = book[hi >> 4];
            wv[9 + 2 * b] = book[hi & 15u];
        }
        rows_dot16<M, true>(xb, k, c, rows, wv, scale, s);
    }
    store_rows<M>(s, 1.f, rows, row0, n, w, lane, y, accumulate);
}

template <int M>
__global__ void int8_gemv_rows_kernel(const uint16_t* __restrict__ x, int m, int n, int k,
                                      const int8_t* __restrict__ q, const float* __restrict__ scales,
                                      float* __restrict__ y, int accumulate) {
    const int w = blockIdx.x * kGemvWarps + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    const int row0 = int(blockIdx.y) * M, rows = min(M, m - row0);
    if (w >= n) return;
    const uint4* wq = reinterpret_cast<const uint4*>(q + int64_t(w) * k);
    const uint16_t* xb = x + int64_t(row0) * k;
    float s[M];
#pragma unroll
    for (int r = 0; r < M; ++r) s[r] = 0.f;
    for (int c = lane; c < (k >> 4); c += 32) {
        const uint4 p = __ldg(wq + c);
        const uint32_t words[4] = {p.x, p.y, p.z, p.w};
        float wv[16];
#pragma unroll
        for (int i = 0; i < 16; ++i) wv[i] = float(int8_t((words[i >> 2] >> (8 * (i & 3))) & 0xFFu));
        rows_dot16<M, false>(xb, k, c, rows, wv, 1.f, s);
    }
    store_rows<M>(s, scales[w], rows, row0, n, w, lane, y, accumulate);
}

__global__ void nf4_dequant_kernel(const uint8_t* __restrict__ codes, const float* __restrict__ absmax,
                                   int64_t numel, uint16_t* __restrict__ out) {
    const int64_t g = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (g < numel) out[g] = f32_to_bf16(nf4_decode(codes, absmax, g));
}

// 16 elements a thread (8 code bytes, one absmax: 16 divides 64) in 16-byte stores, the code book in shared
// memory; numel % 16 == 0 and aligned buffers. The kernel above, a switch per element, took a batch-32 NF4 step
// of a 7B model to 53 ms on an H200.
__global__ void nf4_dequant16_kernel(const uint2* __restrict__ codes, const float* __restrict__ absmax,
                                     int64_t chunks, uint4* __restrict__ out) {
    __shared__ float book[16];
    if (threadIdx.x < 16) book[threadIdx.x] = nf4_code(int(threadIdx.x));
    __syncthreads();
    const int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (c >= chunks) return;
    const uint2 p = __ldg(codes + c);
    const float scale = __ldg(absmax + (c >> 2));
    uint32_t packed[8];
#pragma unroll
    for (int b = 0; b < 4; ++b) {
        const uint32_t lo = (p.x >> (8 * b)) & 0xFFu, hi = (p.y >> (8 * b)) & 0xFFu;
        packed[b] = uint32_t(f32_to_bf16(book[lo >> 4] * scale)) | (uint32_t(f32_to_bf16(book[lo & 15u] * scale)) << 16);
        packed[4 + b] = uint32_t(f32_to_bf16(book[hi >> 4] * scale)) | (uint32_t(f32_to_bf16(book[hi & 15u] * scale)) << 16);
    }
    out[2 * c] = make_uint4(packed[0], packed[1], packed[2], packed[3]);
    out[2 * c + 1] = make_uint4(packed[4], packed[5], packed[6], packed[7]);
}

__global__ void int8_dequant_kernel(const int8_t* __restrict__ q, const float* __restrict__ scales, int k,
                                    int64_t numel, uint16_t* __restrict__ out) {
    const int64_t g = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (g < numel) out[g] = f32_to_bf16(float(q[g]) * scales[g / k]);
}

__global__ void int8_gemv_kernel(const uint16_t* __restrict__ x, int n, int k, const int8_t* __restrict__ q,
                                 const float* __restrict__ scales, float* __restrict__ y, int accumulate) {
    const int row = blockIdx.y, w = blockIdx.x * kGemvWarps + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (w >= n) return;
    const int8_t* qr = q + int64_t(w) * k;
    float s = 0.f;
    for (int j = lane; j < k; j += 32) s += ld(x + int64_t(row) * k + j) * float(qr[j]);
    s = warp_sum(s) * scales[w];
    if (lane == 0) {
        float* o = y + int64_t(row) * n + w;
        *o = accumulate ? *o + s : s;
    }
}

cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

// gridDim.y and .z stop at 65535.
constexpr unsigned kMaxGridYZ = 65535;

int32_t bad(const char* what) { return fail(OLORA_CUDA_E_ARGUMENT, what); }

unsigned blocks_for(int64_t n, int threads) { return unsigned((n + threads - 1) / threads); }

// The vectorized GEMVs need k to be a multiple of `k_multiple` and x (16-byte loads) and the weight codes
// (`codes_align`-byte loads) aligned; every model's shapes and cudaMalloc'd buffers are.
bool rows_kernel_fits(const void* x, const void* codes, int k, int k_multiple, int codes_align) {
    return k % k_multiple == 0 && reinterpret_cast<uintptr_t>(x) % 16 == 0 &&
           reinterpret_cast<uintptr_t>(codes) % uintptr_t(codes_align) == 0;
}

// One launch of a rows kernel: 1, 2 or 4 rows in one block when m is that small (decode), else blocks of 8
// rows along gridDim.y. `launch(std::integral_constant<int, M>, grid, stream)` runs the kernel for M.
template <typename Launch>
void launch_rows(int m, int n, void* stream, Launch launch) {
    const unsigned cols = blocks_for(n, kGemvWarps);
    cudaStream_t st = as_stream(stream);
    if (m == 1) launch(std::integral_constant<int, 1>{}, dim3(cols, 1), st);
    else if (m == 2) launch(std::integral_constant<int, 2>{}, dim3(cols, 1), st);
    else if (m <= 4) launch(std::integral_constant<int, 4>{}, dim3(cols, 1), st);
    else launch(std::integral_constant<int, 8>{}, dim3(cols, unsigned((m + 7) / 8)), st);
}

}  // namespace
}  // namespace olora_cuda

using namespace olora_cuda;

extern "C" OLORA_CUDA_API int32_t olora_cuda_add_rmsnorm(const float* x, float* residual, const uint16_t* weight,
                                                         uint16_t* out, int32_t rows, int32_t hidden, float eps,
                                                         void* stream) {
    if (rows < 0 || hidden < 1 || !(eps >= 0.f) || !std::isfinite(eps)) return bad("add_rmsnorm: bad sizes or eps");
    if (rows == 0) return OLORA_CUDA_OK;
    if (!residual || !weight || !out) return bad("add_rmsnorm: null pointer");
    // A block per row: at batch 1 that is one block on the whole GPU, so a wide row gets 1024 threads (256
    // took 13 us for hidden 4096 on an H200, 65 launches a Mistral-7B step).
    const int threads = hidden >= 2048 ? 1024 : 256;
    add_rmsnorm_kernel<<<rows, threads, 0, as_stream(stream)>>>(x, residual, weight, out, hidden, eps);
    return check_launch("add_rmsnorm");
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_rope_tables(float* cos_table, float* sin_table, int32_t max_positions,
                                                         int32_t head_dim, int32_t rope_kind, double theta,
                                                         double factor, double low_freq_factor,
                                                         double high_freq_factor, double original_max_positions,
                                                         void* stream) {
    if (!cos_table || !sin_table || max_positions < 1 || head_dim < 2 || head_dim % 2 || rope_kind < 0 ||
        rope_kind > 2 || !(theta > 0) || !(factor > 0) || (rope_kind == kRopeLlama3 && !(high_freq_factor > low_freq_factor)))
        return bad("rope_tables: bad arguments");
    RopeParams p{rope_kind, head_dim, theta, factor, low_freq_factor, high_freq_factor, original_max_positions};
    const int64_t n = int64_t(max_positions) * (head_dim / 2);
    rope_tables_kernel<<<blocks_for(n, 256), 256, 0, as_stream(stream)>>>(cos_table, sin_table, max_positions, p);
    return check_launch("rope_tables");
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_rope(float* q, int64_t q_stride, int32_t num_heads, float* k,
                                                  int64_t k_stride, int32_t kv_heads, int32_t head_dim,
                                                  const int32_t* positions, int32_t num_tokens,
                                                  const float* cos_table, const float* sin_table, void* stream) {
    if (num_tokens < 0 || num_heads < 1 || kv_heads < 0 || head_dim < 2 || head_dim % 2 ||
        q_stride < int64_t(num_heads) * head_dim || (kv_heads > 0 && k_stride < int64_t(kv_heads) * head_dim))
        return bad("rope: bad sizes or strides");
    if (num_tokens == 0) return OLORA_CUDA_OK;
    if (!q || (kv_heads > 0 && !k) || !positions || !cos_table || !sin_table) return bad("rope: null pointer");
    rope_kernel<<<num_tokens, 128, 0, as_stream(stream)>>>(q, q_stride, num_heads, k, k_stride, kv_heads, head_dim,
                                                           positions, cos_table, sin_table);
    return check_launch("rope");
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_kv_append(const float* keys, int64_t key_stride, const float* values,
                                                       int64_t value_stride, const int64_t* slot_mapping,
                                                       int32_t num_tokens, uint16_t* k_pool, uint16_t* v_pool,
                                                       int32_t block_size, int32_t kv_heads, int32_t head_dim,
                                                       void* stream) {
    if (num_tokens < 0 || block_size < 1 || kv_heads < 1 || head_dim < 1 ||
        key_stride < int64_t(kv_heads) * head_dim || value_stride < int64_t(kv_heads) * head_dim)
        return bad("kv_append: bad sizes or strides");
    if (num_tokens == 0) return OLORA_CUDA_OK;
    if (!keys || !values || !slot_mapping || !k_pool || !v_pool) return bad("kv_append: null pointer");
    kv_append_kernel<<<num_tokens, 128, 0, as_stream(stream)>>>(keys, key_stride, values, value_stride, slot_mapping,
                                                                k_pool, v_pool, KvGeom{block_size, kv_heads, head_dim});
    return check_launch("kv_append");
}

// Positions per decode part: a short context is cut into up to 8 parts of at least 64 positions (blocks
// enough for a batch-1 step), a long one into parts of kPart. So the scratch never needs more parts than
// max(8, max_context / kPart).
static int32_t decode_part_size(int32_t max_context) {
    const int64_t eighth = (std::max<int64_t>(max_context, 1) + 7) / 8;
    return int32_t(std::min<int64_t>(kPart, std::max<int64_t>(64, (eighth + 31) / 32 * 32)));
}

static int32_t decode_parts(int32_t max_context) {
    const int64_t part = decode_part_size(max_context);
    return max_context < 1 ? 1 : int32_t((int64_t(max_context) + part - 1) / part);
}

extern "C" OLORA_CUDA_API int64_t olora_cuda_decode_scratch_floats(int32_t num_seqs, int32_t num_heads,
                                                                   int32_t head_dim, int32_t max_context) {
    return int64_t(num_seqs) * num_heads * decode_parts(max_context) * (head_dim + 2);
}

static bool attn_shape_ok(int32_t num_heads, int32_t kv_heads, int32_t head_dim, int32_t block_size,
                          int32_t window) {
    return num_heads >= 1 && kv_heads >= 1 && num_heads % kv_heads == 0 && head_dim >= 1 &&
           head_dim <= kMaxHeadDim && block_size >= 1 && window >= 0;
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_paged_attention_decode(
    const float* q, int64_t q_stride, uint16_t* out, int64_t out_stride, const uint16_t* k_pool, const uint16_t* v_pool,
    int32_t block_size, const int32_t* block_tables, int64_t block_table_stride, const int32_t* context_lens,
    int32_t num_seqs, int32_t max_context, int32_t num_heads, int32_t kv_heads, int32_t head_dim,
    int32_t sliding_window, float* scratch, int64_t scratch_floats, void* stream) {
    if (!attn_shape_ok(num_heads, kv_heads, head_dim, block_size, sliding_window) || num_seqs < 0 ||
        max_context < 0 || q_stride < int64_t(num_heads) * head_dim || out_stride < int64_t(num_heads) * head_dim ||
        block_table_stride < 1)
        return bad("paged_attention_decode: bad shape (head_dim <= 256, num_heads a multiple of kv_heads)");
    if (num_seqs == 0) return OLORA_CUDA_OK;
    if (unsigned(num_seqs) > kMaxGridYZ) return bad("paged_attention_decode: more than 65535 sequences in one launch");
    if (!q || !out || !k_pool || !v_pool || !block_tables || !context_lens || !scratch)
        return bad("paged_attention_decode: null pointer");
    if (scratch_floats < olora_cuda_decode_scratch_floats(num_seqs, num_heads, head_dim, max_context))
        return bad("paged_attention_decode: scratch smaller than olora_cuda_decode_scratch_floats");
    const int parts = decode_parts(max_context), part = decode_part_size(max_context);
    const int vec = head_dim % 8 == 0 && reinterpret_cast<uintptr_t>(k_pool) % 16 == 0;
    const KvGeom g{block_size, kv_heads, head_dim};
    decode_part_kernel<<<dim3(parts, num_heads, num_seqs), kDecodeThreads, 0, as_stream(stream)>>>(
        q, q_stride, k_pool, v_pool, g, block_tables, block_table_stride, context_lens, num_heads, sliding_window,
        parts, part, vec, scratch);
    if (const int32_t rc = check_launch("paged_attention_decode (parts)"); rc != 0) return rc;
    decode_merge_kernel<<<dim3(num_heads, num_seqs), 128, 0, as_stream(stream)>>>(
        out, out_stride, context_lens, num_heads, head_dim, sliding_window, parts, part, scratch);
    return check_launch("paged_attention_decode (merge)");
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_paged_attention_prefill(
    const float* q, int64_t q_stride, uint16_t* out, int64_t out_stride, const uint16_t* k_pool, const uint16_t* v_pool,
    int32_t block_size, const int32_t* block_tables, int64_t block_table_stride, const int32_t* query_start_loc,
    const int32_t* context_lens, int32_t num_seqs, int32_t max_tokens, int32_t num_heads, int32_t kv_heads,
    int32_t head_dim, int32_t sliding_window, void* stream) {
    if (!attn_shape_ok(num_heads, kv_heads, head_dim, block_size, sliding_window) || num_seqs < 0 ||
        max_tokens < 0 || q_stride < int64_t(num_heads) * head_dim || out_stride < int64_t(num_heads) * head_dim ||
        block_table_stride < 1)
        return bad("paged_attention_prefill: bad shape (head_dim <= 256, num_heads a multiple of kv_heads)");
    if (num_seqs == 0 || max_tokens == 0) return OLORA_CUDA_OK;
    if (unsigned(num_seqs) > kMaxGridYZ) return bad("paged_attention_prefill: more than 65535 sequences in one launch");
    if (!q || !out || !k_pool || !v_pool || !block_tables || !query_start_loc || !context_lens)
        return bad("paged_attention_prefill: null pointer");
    const dim3 grid(unsigned((max_tokens + kTileRows - 1) / kTileRows), unsigned(num_heads), unsigned(num_seqs));
    prefill_kernel<<<grid, kPrefillThreads, 0, as_stream(stream)>>>(
        q, q_stride, out, out_stride, k_pool, v_pool, KvGeom{block_size, kv_heads, head_dim}, block_tables,
        block_table_stride, query_start_loc, context_lens, num_heads, sliding_window);
    return check_launch("paged_attention_prefill");
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_swiglu(const float* gate_up, uint16_t* out, int32_t rows,
                                                    int32_t intermediate, void* stream) {
    if (rows < 0 || intermediate < 1) return bad("swiglu: bad sizes");
    if (rows == 0) return OLORA_CUDA_OK;
    if (!gate_up || !out) return bad("swiglu: null pointer");
    if (blocks_for(intermediate, 256) > kMaxGridYZ) return bad("swiglu: intermediate too large for one launch");
    swiglu_kernel<<<dim3(unsigned(rows), blocks_for(intermediate, 256)), 256, 0, as_stream(stream)>>>(gate_up, out,
                                                                                                     intermediate);
    return check_launch("swiglu");
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_sgmv_shrink(const uint16_t* x, int64_t x_stride, float* v,
                                                         int64_t v_stride, const int32_t* tiles, int32_t num_tiles,
                                                         const uint16_t* a_table, int32_t max_rank,
                                                         int32_t in_features, const int32_t* slot_ranks,
                                                         void* stream) {
    if (num_tiles < 0 || max_rank < 1 || in_features < 1 || x_stride < in_features || v_stride < max_rank)
        return bad("sgmv_shrink: bad sizes or strides");
    if (unsigned(max_rank) > kMaxGridYZ) return bad("sgmv_shrink: max_rank over 65535");
    if (num_tiles == 0) return OLORA_CUDA_OK;
    if (!x || !v || !tiles || !a_table || !slot_ranks) return bad("sgmv_shrink: null pointer");
    const dim3 grid{unsigned(num_tiles), unsigned(max_rank)};
    // 16-byte loads need every row of x and of the A table on a 16-byte boundary.
    const int vec = in_features % 8 == 0 && x_stride % 8 == 0 && reinterpret_cast<uintptr_t>(x) % 16 == 0 &&
                    reinterpret_cast<uintptr_t>(a_table) % 16 == 0;
    sgmv_shrink_kernel<<<grid, kShrinkThreads, 0, as_stream(stream)>>>(
        x, x_stride, v, v_stride, reinterpret_cast<const SgmvTile*>(tiles), a_table, max_rank, in_features, slot_ranks,
        vec);
    return check_launch("sgmv_shrink");
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_sgmv_expand(const float* v, int64_t v_stride, float* y, int64_t y_stride,
                                                         const int32_t* tiles, int32_t num_tiles,
                                                         const uint16_t* b_table, int32_t max_rank,
                                                         int32_t out_features, const int32_t* slot_ranks,
                                                         const float* slot_scales, void* stream) {
    if (num_tiles < 0 || max_rank < 1 || out_features < 1 || v_stride < max_rank || y_stride < out_features)
        return bad("sgmv_expand: bad sizes or strides");
    if (num_tiles == 0) return OLORA_CUDA_OK;
    if (!v || !y || !tiles || !b_table || !slot_ranks || !slot_scales) return bad("sgmv_expand: null pointer");
    const dim3 grid(unsigned(num_tiles), blocks_for(out_features, 256));
    sgmv_expand_kernel<<<grid, 256, 0, as_stream(stream)>>>(v, v_stride, y, y_stride,
                                                            reinterpret_cast<const SgmvTile*>(tiles), b_table,
                                                            max_rank, out_features, slot_ranks, slot_scales);
    return check_launch("sgmv_expand");
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_nf4_gemv(const uint16_t* x, int32_t m, int32_t n, int32_t k,
                                                      const uint8_t* codes, const float* absmax, float* y,
                                                      int32_t accumulate, void* stream) {
    if (m < 0 || n < 1 || k < 1) return bad("nf4_gemv: bad sizes");
    if (unsigned(m) > kMaxGridYZ) return bad("nf4_gemv: more than 65535 rows in one launch");
    if (m == 0) return OLORA_CUDA_OK;
    if (!x || !codes || !absmax || !y) return bad("nf4_gemv: null pointer");
    if (rows_kernel_fits(x, codes, k, 64, 8)) {
        launch_rows(m, n, stream, [&](auto rows, dim3 grid, cudaStream_t st) {
            nf4_gemv_rows_kernel<decltype(rows)::value><<<grid, kGemvWarps * 32, 0, st>>>(x, m, n, k, codes, absmax, y,
                                                                                          accumulate);
        });
        return check_launch("nf4_gemv");
    }
    nf4_gemv_kernel<<<dim3(blocks_for(n, kGemvWarps), unsigned(m)), kGemvWarps * 32, 0, as_stream(stream)>>>(
        x, n, k, codes, absmax, y, accumulate);
    return check_launch("nf4_gemv");
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_nf4_dequantize_bf16(const uint8_t* codes, const float* absmax,
                                                                 int64_t numel, uint16_t* out, void* stream) {
    if (numel < 0) return bad("nf4_dequantize_bf16: negative size");
    if (numel == 0) return OLORA_CUDA_OK;
    if (!codes || !absmax || !out) return bad("nf4_dequantize_bf16: null pointer");
    if (numel % 16 == 0 && reinterpret_cast<uintptr_t>(codes) % 8 == 0 && reinterpret_cast<uintptr_t>(out) % 16 == 0) {
        const int64_t chunks = numel / 16;
        nf4_dequant16_kernel<<<blocks_for(chunks, 256), 256, 0, as_stream(stream)>>>(
            reinterpret_cast<const uint2*>(codes), absmax, chunks, reinterpret_cast<uint4*>(out));
        return check_launch("nf4_dequantize_bf16");
    }
    nf4_dequant_kernel<<<blocks_for(numel, 256), 256, 0, as_stream(stream)>>>(codes, absmax, numel, out);
    return check_launch("nf4_dequantize_bf16");
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_int8_dequantize_bf16(const int8_t* q, const float* scales, int32_t n,
                                                                 int32_t k, uint16_t* out, void* stream) {
    if (n < 1 || k < 1) return bad("int8_dequantize_bf16: bad sizes");
    if (!q || !scales || !out) return bad("int8_dequantize_bf16: null pointer");
    const int64_t numel = int64_t(n) * k;
    int8_dequant_kernel<<<blocks_for(numel, 256), 256, 0, as_stream(stream)>>>(q, scales, k, numel, out);
    return check_launch("int8_dequantize_bf16");
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_int8_gemv(const uint16_t* x, int32_t m, int32_t n, int32_t k,
                                                       const int8_t* q, const float* scales, float* y,
                                                       int32_t accumulate, void* stream) {
    if (m < 0 || n < 1 || k < 1) return bad("int8_gemv: bad sizes");
    if (unsigned(m) > kMaxGridYZ) return bad("int8_gemv: more than 65535 rows in one launch");
    if (m == 0) return OLORA_CUDA_OK;
    if (!x || !q || !scales || !y) return bad("int8_gemv: null pointer");
    if (rows_kernel_fits(x, q, k, 16, 16)) {
        launch_rows(m, n, stream, [&](auto rows, dim3 grid, cudaStream_t st) {
            int8_gemv_rows_kernel<decltype(rows)::value><<<grid, kGemvWarps * 32, 0, st>>>(x, m, n, k, q, scales, y,
                                                                                           accumulate);
        });
        return check_launch("int8_gemv");
    }
    int8_gemv_kernel<<<dim3(blocks_for(n, kGemvWarps), unsigned(m)), kGemvWarps * 32, 0, as_stream(stream)>>>(
        x, n, k, q, scales, y, accumulate);
    return check_launch("int8_gemv");
}
