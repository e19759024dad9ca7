// HostModelOps: the model's operations on host memory with the CPU kernels (olora_kernels.h) of each CUDA
// launcher's contract, in the launchers' dtypes: what is bf16 on the device is bf16 here, widened to float32
// around the CPU kernels (exact) and rounded back (to nearest even) where the CUDA kernel rounds. This is
// the host emulation of olora_cuda_context_create(OLORA_CUDA_HOST_DEVICE): CI runs the whole-model forward
// through it without a GPU. It is a check of the orchestration, not a fast path.
#include <cstring>
#include <vector>

#include "model_ops.h"
#include "olora_cuda_math.h"
#include "olora_kernels.h"
#include "runner_internal.h"

namespace olora_cuda {
namespace {

int32_t cpu(int32_t rc, const char* what) {
    return rc == 0 ? OLORA_CUDA_OK : fail(OLORA_CUDA_E_ARGUMENT, std::string("host emulation: ") + what +
                                                                    " refused its arguments (status " +
                                                                    std::to_string(rc) + ")");
}

void widen(const uint16_t* src, int64_t n, float* dst) {
    for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(src[i]);
}

void narrow(const float* src, int64_t n, uint16_t* dst) {
    for (int64_t i = 0; i < n; ++i) dst[i] = f32_to_bf16(src[i]);
}

// Rows of bf16 with a stride, widened into a contiguous float32 buffer.
float* widen_rows(const uint16_t* src, int64_t stride, int32_t rows, int32_t cols, std::vector<float>& buf) {
    buf.resize(size_t(rows) * cols);
    for (int32_t r = 0; r < rows; ++r) widen(src + r * stride, cols, buf.data() + size_t(r) * cols);
    return buf.data();
}

class HostModelOps final : public ModelOps {
public:
    explicit HostModelOps(olora_cuda_context* ctx) : ModelOps(ctx) {}

    int32_t copy(void* dst, const void* src, int64_t bytes) override {
        std::memmove(dst, src, size_t(bytes));
        return OLORA_CUDA_OK;
    }
    int32_t zero(void* dst, int64_t bytes) override {
        std::memset(dst, 0, size_t(bytes));
        return OLORA_CUDA_OK;
    }
    int32_t synchronize() override { return OLORA_CUDA_OK; }

    int32_t embedding(const uint16_t* table, const int32_t* ids, int32_t num_tokens, int32_t hidden,
                      float* out) override {
        for (int32_t t = 0; t < num_tokens; ++t) widen(table + int64_t(ids[t]) * hidden, hidden, out + int64_t(t) * hidden);
        return OLORA_CUDA_OK;
    }

    int32_t gather_rows(const uint16_t* src, int32_t cols, const int32_t* rows, int32_t num_rows,
                        uint16_t* dst) override {
        for (int32_t r = 0; r < num_rows; ++r)
            std::memcpy(dst + int64_t(r) * cols, src + int64_t(rows[r]) * cols, size_t(cols) * 2);
        return OLORA_CUDA_OK;
    }

    int32_t add_rmsnorm(const float* x, float* residual, const uint16_t* weight, uint16_t* out, int32_t rows,
                        int32_t hidden, float eps) override {
        w_.resize(size_t(hidden));
        widen(weight, hidden, w_.data());
        f_.resize(size_t(rows) * hidden);
        const int32_t rc = x ? olora_add_rmsnorm(x, hidden, residual, hidden, w_.data(), f_.data(), hidden, rows, hidden, eps)
                             : olora_rmsnorm(residual, hidden, w_.data(), f_.data(), hidden, rows, hidden, eps);
        if (rc != 0) return cpu(rc, "add_rmsnorm");
        narrow(f_.data(), int64_t(rows) * hidden, out);
        return OLORA_CUDA_OK;
    }

    int32_t rope(float* q, int64_t q_stride, int32_t num_heads, float* k, int64_t k_stride, int32_t kv_heads,
                 int32_t head_dim, const int32_t* positions, int32_t num_tokens, const float* cos_table,
                 const float* sin_table, int32_t max_positions) override {
        return cpu(olora_rope(q, q_stride, num_heads, k, k_stride, kv_heads, head_dim, positions, num_tokens, cos_table,
                              sin_table, max_positions),
                   "rope");
    }

    int32_t kv_append(const float* keys, int64_t key_stride, const float* values, int64_t value_stride,
                      const int64_t* slot_mapping, int32_t num_tokens, uint16_t* k_pool, uint16_t* v_pool,
                      int64_t num_blocks, int32_t block_size, int32_t kv_heads, int32_t head_dim) override {
        return cpu(olora_kv_append(OLORA_DTYPE_BF16, keys, key_stride, values, value_stride, slot_mapping, num_tokens,
                                   k_pool, v_pool, num_blocks, block_size, kv_heads, head_dim),
                   "kv_append");
    }

    int64_t decode_scratch_floats(int32_t, int32_t, int32_t, int32_t) override { return 0; }

    int32_t attention_decode(const float* q, int64_t q_stride, uint16_t* out, int64_t out_stride,
                             const uint16_t* k_pool, const uint16_t* v_pool, int64_t num_blocks, int32_t block_size,
                             const int32_t* block_tables, int64_t block_table_stride, const int32_t* context_lens,
                             int32_t num_seqs, int32_t, int32_t num_heads, int32_t kv_heads, int32_t head_dim,
                             int32_t sliding_window, float*, int64_t) override {
        const int32_t width = num_heads * head_dim;
        f_.resize(size_t(num_seqs) * width);
        const int32_t rc = olora_paged_attention_decode(
            OLORA_DTYPE_BF16, q, q_stride, f_.data(), width, k_pool, v_pool, num_blocks, block_size, block_tables,
            block_table_stride, int32_t(block_table_stride), context_lens, num_seqs, num_heads, kv_heads, head_dim,
            sliding_window);
        if (rc != 0) return cpu(rc, "paged_attention_decode");
        for (int32_t s = 0; s < num_seqs; ++s) narrow(f_.data() + size_t(s) * width, width, out + s * out_stride);
        return OLORA_CUDA_OK;
    }

    int32_t attention_prefill(const float* q, int64_t q_stride, uint16_t* out, int64_t out_stride,
                              const uint16_t* k_pool, const uint16_t* v_pool, int64_t num_blocks, int32_t block_size,
                              const int32_t* block_tables, int64_t block_table_stride, const int32_t* query_start_loc,
                              const int32_t* context_lens, int32_t num_seqs, int32_t, int32_t num_heads,
                              int32_t kv_heads, int32_t head_dim, int32_t sliding_window) override {
        // The CPU kernel writes float32 rows at the same absolute indices; only the rows of these sequences
        // are rounded into out (the caller's other rows belong to the decode call).
        const int32_t width = num_heads * head_dim;
        const int32_t first = query_start_loc[0], last = query_start_loc[num_seqs];
        f_.resize(size_t(last) * width);
        const int32_t rc = olora_paged_attention_prefill(
            OLORA_DTYPE_BF16, q, q_stride, f_.data(), width, k_pool, v_pool, num_blocks, block_size, block_tables,
            block_table_stride, int32_t(block_table_stride), query_start_loc, context_lens, num_seqs, num_heads,
            kv_heads, head_dim, sliding_window);
        if (rc != 0) return cpu(rc, "paged_attention_prefill");
        for (int32_t r = first; r < last; ++r) narrow(f_.data() + size_t(r) * width, width, out + r * out_stride);
        return OLORA_CUDA_OK;
    }

    int32_t swiglu(const float* gate_up, uint16_t* out, int32_t rows, int32_t intermediate) override {
        f_.resize(size_t(rows) * intermediate);
        const int32_t rc = olora_swiglu(gate_up, 2 * int64_t(intermediate), f_.data(), intermediate, rows, intermediate);
        if (rc != 0) return cpu(rc, "swiglu");
        narrow(f_.data(), int64_t(rows) * intermediate, out);
        return OLORA_CUDA_OK;
    }

    int32_t lora(const uint16_t* x, int64_t x_stride, float* y, int64_t y_stride, const int32_t* tiles,
                 int32_t num_tiles, int32_t rows, const uint16_t* a_table, const uint16_t* b_table, int32_t num_slots,
                 int32_t max_rank, int32_t in_features, int32_t out_features, const int32_t* slot_ranks,
                 const float* slot_scales, float*) override {
        if (num_tiles == 0) return OLORA_CUDA_OK;
        // Tiles back to the CPU kernel's segments: each tile is a segment, the rows between them (and the
        // tiles of a slot with rank 0 for this projection) are slot -1.
        starts_.assign(1, 0);
        slots_.clear();
        for (int32_t i = 0; i < num_tiles; ++i) {
            const int32_t* t = tiles + 4 * i;
            if (t[0] > starts_.back()) {
                slots_.push_back(-1);
                starts_.push_back(t[0]);
            }
            slots_.push_back(slot_ranks[t[2]] > 0 ? t[2] : -1);
            starts_.push_back(t[0] + t[1]);
        }
        // Rank 0 slots are never named (above), so the CPU kernel's rank check sees only real ranks; give it
        // rank 1 for the others (never read).
        ranks_.assign(slot_ranks, slot_ranks + num_slots);
        for (int32_t& r : ranks_) r = r > 0 ? r : 1;
        std::vector<float>& xf = x_;
        widen_rows(x, x_stride, rows, in_features, xf);
        return cpu(olora_sgmv_mixed(OLORA_DTYPE_F32, OLORA_DTYPE_BF16, xf.data(), in_features, y, y_stride,
                                    starts_.data(), slots_.data(), int32_t(slots_.size()), a_table, b_table, num_slots,
                                    max_rank, in_features, out_features, ranks_.data(), slot_scales, nullptr, 0),
                   "sgmv");
    }

    int32_t gemm_bf16(const uint16_t* x, int32_t m, int32_t k, const uint16_t* w, int32_t n, float* y,
                      int32_t accumulate) override {
        widen_rows(x, k, m, k, x_);
        f_.resize(size_t(n) * k);
        widen(w, int64_t(n) * k, f_.data());
        return cpu(olora_gemm_f32(x_.data(), k, f_.data(), k, y, n, m, n, k, accumulate), "gemm");
    }

    int32_t nf4_gemv(const uint16_t* x, int32_t m, int32_t n, int32_t k, const uint8_t* codes, const float* absmax,
                     float* y, int32_t accumulate) override {
        widen_rows(x, k, m, k, x_);
        return cpu(olora_nf4_linear_ex(x_.data(), k, y, n, m, n, k, codes, absmax, accumulate, OLORA_COMPUTE_F32),
                   "nf4_linear");
    }

    int32_t nf4_dequantize_bf16(const uint8_t* codes, const float* absmax, int64_t numel, uint16_t* out) override {
        f_.resize(size_t(numel));
        const int32_t rc = olora_nf4_dequantize(codes, absmax, numel, f_.data());
        if (rc != 0) return cpu(rc, "nf4_dequantize");
        narrow(f_.data(), numel, out);
        return OLORA_CUDA_OK;
    }

    int32_t int8_dequantize_bf16(const int8_t* q, const float* scales, int32_t n, int32_t k, uint16_t* out) override {
        f_.resize(size_t(n) * k);
        const int32_t rc = olora_int8_dequantize(q, scales, n, k, f_.data());
        if (rc != 0) return cpu(rc, "int8_dequantize");
        narrow(f_.data(), int64_t(n) * k, out);
        return OLORA_CUDA_OK;
    }

    int32_t int8_gemv(const uint16_t* x, int32_t m, int32_t n, int32_t k, const int8_t* q, const float* scales,
                      float* y, int32_t accumulate) override {
        widen_rows(x, k, m, k, x_);
        return cpu(olora_int8_linear_ex(x_.data(), k, y, n, m, n, k, q, scales, accumulate, OLORA_COMPUTE_F32),
                   "int8_linear");
    }

private:
    std::vector<float> w_, f_, x_;
    std::vector<int32_t> starts_, slots_, ranks_;
};

}  // namespace

std::unique_ptr<ModelOps> make_host_model_ops(olora_cuda_context* ctx) { return std::make_unique<HostModelOps>(ctx); }

}  // namespace olora_cuda
