// Helpers of the paged-attention tests: K/V pools in the contract's layout (NaN wherever no query
// may look), block tables of shuffled distinct blocks, and a float64 reference of attention with
// its float32 rounding bound.
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>

#include "test_util.h"

namespace olora_test {

constexpr double kU = 1.0 / 16777216.0;  // float32 unit roundoff, 2^-24

// Round to nearest even, as the library stores bf16 (NaN stays a quiet NaN with its sign).
inline uint16_t bf16_rne(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
    return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

// One layer's K and V pools, [num_blocks, kv_heads, block_size, head_dim], all NaN at first.
struct KvPools {
    int dtype, bs, kvh, d;
    int64_t num_blocks;
    std::vector<float> kf, vf;
    std::vector<uint16_t> kh, vh;

    KvPools(int dtype_, int64_t blocks, int bs_, int kvh_, int d_)
        : dtype(dtype_), bs(bs_), kvh(kvh_), d(d_), num_blocks(blocks) {
        const size_t n = size_t(blocks) * kvh * bs * d;
        if (dtype == OLORA_DTYPE_BF16) {
            kh.assign(n, 0x7fc0);
            vh.assign(n, 0x7fc0);
        } else {
            kf.assign(n, std::numeric_limits<float>::quiet_NaN());
            vf.assign(n, std::numeric_limits<float>::quiet_NaN());
        }
    }
    int64_t index(int64_t block, int h, int row) const { return ((block * kvh + h) * bs + row) * d; }
    void set(bool key, int64_t i, float x) {
        if (dtype == OLORA_DTYPE_BF16)
            (key ? kh : vh)[i] = bf16_rne(x);
        else
            (key ? kf : vf)[i] = x;
    }
    double get(bool key, int64_t i) const {
        return dtype == OLORA_DTYPE_BF16 ? bf16_to_f32((key ? kh : vh)[i]) : (key ? kf : vf)[i];
    }
    void* k() { return dtype == OLORA_DTYPE_BF16 ? static_cast<void*>(kh.data()) : static_cast<void*>(kf.data()); }
    void* v() { return dtype == OLORA_DTYPE_BF16 ? static_cast<void*>(vh.data()) : static_cast<void*>(vf.data()); }
    // Element i of K or V, as its storage bits (for bit-identity checks).
    uint32_t bits(bool key, int64_t i) const {
        if (dtype == OLORA_DTYPE_BF16) return (key ? kh : vh)[i];
        uint32_t u;
        std::memcpy(&u, &(key ? kf : vf)[i], 4);
        return u;
    }
    size_t size() const { return dtype == OLORA_DTYPE_BF16 ? kh.size() : kf.size(); }
};

// Block tables [seqs, max_blocks] (stride max_blocks + 3, padding and unused entries -7): sequence i
// holds blocks_needed[i] distinct blocks drawn in random order from [0, num_blocks).
struct BlockTables {
    int max_blocks;
    int64_t stride;
    std::vector<int32_t> t;
    BlockTables(std::mt19937& g, const std::vector<int>& blocks_needed, int64_t num_blocks, int max_blocks_)
        : max_blocks(max_blocks_), stride(max_blocks_ + 3) {
        t.assign(blocks_needed.size() * size_t(stride), -7);
        std::vector<int32_t> ids(static_cast<size_t>(num_blocks));
        std::iota(ids.begin(), ids.end(), 0);
        std::shuffle(ids.begin(), ids.end(), g);
        size_t next = 0;
        for (size_t i = 0; i < blocks_needed.size(); ++i)
            for (int b = 0; b < blocks_needed[i]; ++b) t[i * stride + b] = ids.at(next++);
    }
    int32_t* row(int i) { return t.data() + i * stride; }
    const int32_t* row(int i) const { return t.data() + i * stride; }
};

// Fills positions [lo, hi) of a sequence (K and V, every KV head) with uniform(-a, a) values.
inline void fill_positions(KvPools& p, const int32_t* bt, int lo, int hi, std::mt19937& g, float a = 1.f) {
    std::uniform_real_distribution<float> u(-a, a);
    for (int pos = lo; pos < hi; ++pos)
        for (int h = 0; h < p.kvh; ++h) {
            const int64_t base = p.index(bt[pos / p.bs], h, pos % p.bs);
            for (int e = 0; e < p.d; ++e) {
                p.set(true, base + e, u(g));
                p.set(false, base + e, u(g));
            }
        }
}

// Reference attention of one query vector q (query head hq) at position pos over key positions
// [lo, pos] of a sequence, in float64. tol receives the float32 rounding bound per element:
//   scores: |s^ - s| <= Es = (D + 2) u scale max_j sum_e |q_e k_je|   (dot of D terms, then * scale);
//   each weight e^(s_j - m) is perturbed by at most eta = Es + u (max_j |s_j - m| + 2 L + 16)
//   (the subtraction, exp within 4 u, one rescale per 32-key chunk, float32 sums of L terms);
//   numerator and denominator each move by eta relative, so
//   |o^_e - o_e| <= 2.2 eta sum_j p_j |v_je| + 2 u |o_e|.
inline void reference_row(const KvPools& p, const int32_t* bt, int lo, int pos, const float* q, int kv_head,
                          double* out, double* tol) {
    const int d = p.d, n = pos - lo + 1;
    const double scale = double(float(1.0 / std::sqrt(double(d))));
    std::vector<double> s(n), mag(n);
    double m = -INFINITY, es = 0;
    for (int j = 0; j < n; ++j) {
        const int kp = lo + j;
        const int64_t base = p.index(bt[kp / p.bs], kv_head, kp % p.bs);
        double dot = 0, a = 0;
        for (int e = 0; e < d; ++e) {
            const double kv = p.get(true, base + e);
            dot += double(q[e]) * kv;
            a += std::fabs(double(q[e]) * kv);
        }
        s[j] = dot * scale;
        es = std::max(es, a * scale);
        m = std::max(m, s[j]);
    }
    es *= (d + 2) * kU;
    double sum = 0, range = 0;
    for (int j = 0; j < n; ++j) {
        range = std::max(range, m - s[j]);
        s[j] = std::exp(s[j] - m);
        sum += s[j];
    }
    const double eta = es + kU * (range + 2.0 * n + 16);
    for (int e = 0; e < d; ++e) {
        double o = 0, a = 0;
        for (int j = 0; j < n; ++j) {
            const int kp = lo + j;
            const double v = p.get(false, p.index(bt[kp / p.bs], kv_head, kp % p.bs) + e);
            o += s[j] * v;
            a += s[j] * std::fabs(v);
        }
        out[e] = o / sum;
        tol[e] = 2.2 * eta * (a / sum) + 2 * kU * std::fabs(out[e]);
    }
}

inline const char* dtype_name(int dtype) { return dtype == OLORA_DTYPE_BF16 ? "bf16" : "f32"; }

}  // namespace olora_test
