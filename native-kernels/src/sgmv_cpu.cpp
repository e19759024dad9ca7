// SGMV shrink / expand / fused and the decode-shaped BGMV entry: argument checks, the split of
// a batch into (segment, row block, rank or column block) tasks, and their parallel execution
// with the ISA's NT and expand micro-kernels (gemm_*.cpp).
#include <algorithm>
#include <vector>

#include "kernels_internal.h"
#include "thread_pool.h"

namespace olora {
namespace {

constexpr int64_t kMaxRank = kMaxLoraRank;

struct Seg {
    int row0, rows, slot, rank;
};

size_t elem_size(int dtype) { return dtype == OLORA_DTYPE_BF16 ? 2 : 4; }

// Checks the segment description; fills `segs` with the non-empty segments that use a slot.
int check_segments(const int32_t* seg_starts, const int32_t* seg_slots, int32_t num_segments, int32_t num_slots,
                   int32_t max_rank, const int32_t* slot_ranks, std::vector<Seg>& segs) {
    segs.clear();
    if (num_segments < 0 || num_slots < 1 || max_rank < 1 || max_rank > kMaxRank || !slot_ranks)
        return OLORA_E_ARGUMENT;
    if (num_segments == 0) return OLORA_OK;
    if (!seg_starts || !seg_slots || seg_starts[0] < 0) return OLORA_E_ARGUMENT;
    for (int32_t i = 0; i < num_segments; ++i) {
        const int32_t a = seg_starts[i], b = seg_starts[i + 1], s = seg_slots[i];
        if (b < a || s < -1 || s >= num_slots) return OLORA_E_ARGUMENT;
        if (s < 0 || a == b) continue;
        const int32_t r = slot_ranks[s];
        if (r < 1 || r > max_rank) return OLORA_E_ARGUMENT;
        segs.push_back({a, b - a, s, r});
    }
    return OLORA_OK;
}

struct ShrinkTask {
    int seg, row0, rows, k0, nk;
};
struct ExpandTask {
    int seg, row0, rows, j0, j1;
};

void make_shrink_tasks(const std::vector<Seg>& segs, std::vector<ShrinkTask>& t) {
    t.clear();
    for (int s = 0; s < static_cast<int>(segs.size()); ++s) {
        const Seg& g = segs[s];
        const int rb = 16;
        const int kb = g.rows <= 4 ? 8 : 32;
        for (int r = 0; r < g.rows; r += rb)
            for (int k = 0; k < g.rank; k += kb)
                t.push_back({s, g.row0 + r, std::min(rb, g.rows - r), k, std::min(kb, g.rank - k)});
    }
}

void make_expand_tasks(const std::vector<Seg>& segs, int out, std::vector<ExpandTask>& t) {
    t.clear();
    for (int s = 0; s < static_cast<int>(segs.size()); ++s) {
        const Seg& g = segs[s];
        const int rb = 16;
        const int cw = 512;
        for (int r = 0; r < g.rows; r += rb)
            for (int j = 0; j < out; j += cw)
                t.push_back({s, g.row0 + r, std::min(rb, g.rows - r), j, std::min(out, j + cw)});
    }
}

// v rows are addressed as v + (row - v_row0) * ldv.
void run_shrink(int dtype, int w_dtype, const void* x, int64_t ldx, float* v, int64_t ldv, int v_row0,
                const std::vector<Seg>& segs, const void* a_table, int max_rank, int in) {
    thread_local std::vector<ShrinkTask> tasks;
    make_shrink_tasks(segs, tasks);
    const GemmNtFn nt = gemm_nt_for(active_isa());
    const size_t es = elem_size(dtype), ws = elem_size(w_dtype);
    const char* xb = static_cast<const char*>(x);
    const char* ab = static_cast<const char*>(a_table);
    const ShrinkTask* tp = tasks.data();
    parallel_for(static_cast<int64_t>(tasks.size()), [&](int64_t i) {
        const ShrinkTask& t = tp[i];
        const Seg& g = segs[t.seg];
        const char* xr = xb + static_cast<int64_t>(t.row0) * ldx * es;
        const char* ar = ab + ((static_cast<int64_t>(g.slot) * max_rank + t.k0) * in) * ws;
        nt(dtype, w_dtype, xr, ldx, ar, in, v + static_cast<int64_t>(t.row0 - v_row0) * ldv + t.k0, ldv, t.rows, t.nk, in,
           false);
    });
}

void run_expand(int dtype, int w_dtype, const float* v, int64_t ldv, int v_row0, void* y, int64_t ldy, const std::vector<Seg>& segs,
                const void* b_table, int max_rank, int out, const float* scales) {
    thread_local std::vector<ExpandTask> tasks;
    make_expand_tasks(segs, out, tasks);
    const ExpandFn ex = expand_for(active_isa());
    const size_t es = elem_size(dtype), ws = elem_size(w_dtype);
    char* yb = static_cast<char*>(y);
    const char* bb = static_cast<const char*>(b_table);
    const ExpandTask* tp = tasks.data();
    parallel_for(static_cast<int64_t>(tasks.size()), [&](int64_t i) {
        const ExpandTask& t = tp[i];
        const Seg& g = segs[t.seg];
        const char* bs = bb + (static_cast<int64_t>(g.slot) * max_rank * out) * ws;
        ex(w_dtype, dtype, v + static_cast<int64_t>(t.row0 - v_row0) * ldv, ldv, bs, out,
           yb + static_cast<int64_t>(t.row0) * ldy * es, ldy, t.rows, g.rank, t.j0, t.j1, scales[g.slot]);
    });
}

// Decode batches put one or a few rows on each of many adapters: every segment then reads its
// whole A and B once for very little arithmetic, so one task per segment that shrinks and expands
// back to back (v stays in L1, no barrier between the phases) streams the tables at the rate the
// memory allows, where the two-phase split paid two thread hand-offs and a task per few dot products.
constexpr int kPerSegmentMaxRows = 4;

// A lone segment of a few rows whose tables are at most this many bytes runs as one task on the calling thread: a
// batch-1 decode step's update of one projection (64-123 KB of bf16 rank-16 tables on the small preset) is ~1-3 us
// of work, less than the two pool hand-offs of the split (measured: LoRA steps 5-6 % faster on the small preset).
constexpr int64_t kSerialTableBytes = 128 << 10;

bool decode_shaped(const std::vector<Seg>& segs, int64_t table_bytes_per_rank) {
    if (segs.empty()) return false;
    if (segs.size() == 1) return segs[0].rows <= kPerSegmentMaxRows && segs[0].rank * table_bytes_per_rank <= kSerialTableBytes;
    for (const Seg& g : segs)
        if (g.rows > kPerSegmentMaxRows) return false;
    return true;
}

void run_per_segment(int dtype, int w_dtype, const void* x, int64_t ldx, float* v, int64_t ldv, int v_row0, void* y,
                     int64_t ldy, const std::vector<Seg>& segs, const void* a_table, const void* b_table, int max_rank,
                     int in, int out, const float* scales) {
    const GemmNtFn nt = gemm_nt_for(active_isa());
    const ExpandFn ex = expand_for(active_isa());
    const size_t es = elem_size(dtype), ws = elem_size(w_dtype);
    const char* xb = static_cast<const char*>(x);
    char* yb = static_cast<char*>(y);
    const char* ab = static_cast<const char*>(a_table);
    const char* bb = static_cast<const char*>(b_table);
    const Seg* sp = segs.data();
    parallel_for(static_cast<int64_t>(segs.size()), [&](int64_t i) {
        const Seg& g = sp[i];
        // Segments cover disjoint rows, so each task owns its rows of v and y.
        float* vr = v + static_cast<int64_t>(g.row0 - v_row0) * ldv;
        nt(dtype, w_dtype, xb + static_cast<int64_t>(g.row0) * ldx * es, ldx,
           ab + static_cast<int64_t>(g.slot) * max_rank * in * ws, in, vr, ldv, g.rows, g.rank, in, false);
        ex(w_dtype, dtype, vr, ldv, bb + static_cast<int64_t>(g.slot) * max_rank * out * ws, out,
           yb + static_cast<int64_t>(g.row0) * ldy * es, ldy, g.rows, g.rank, 0, out, scales[g.slot]);
    });
}

bool bad_dtype(int32_t dtype) { return dtype != OLORA_DTYPE_F32 && dtype != OLORA_DTYPE_BF16; }

int32_t fused(int32_t dtype, int32_t w_dtype, const void* x, int64_t x_row_stride, void* y, int64_t y_row_stride,
              const int32_t* seg_starts, const int32_t* seg_slots, int32_t num_segments, const void* a_table,
              const void* b_table, int32_t num_slots, int32_t max_rank, int32_t in_features, int32_t out_features,
              const int32_t* slot_ranks, const float* slot_scales, float* scratch, int64_t scratch_elems) {
    if (bad_dtype(dtype) || bad_dtype(w_dtype) || !x || !y || !a_table || !b_table || !slot_scales || in_features < 1 ||
        out_features < 1 || x_row_stride < in_features || y_row_stride < out_features)
        return OLORA_E_ARGUMENT;
    thread_local std::vector<Seg> segs;
    const int rc = check_segments(seg_starts, seg_slots, num_segments, num_slots, max_rank, slot_ranks, segs);
    if (rc != OLORA_OK) return rc;
    if (num_segments == 0) return OLORA_OK;
    const int row0 = seg_starts[0];
    const int64_t need = static_cast<int64_t>(seg_starts[num_segments] - row0) * max_rank;
    if (scratch && scratch_elems < need) return OLORA_E_ARGUMENT;
    if (segs.empty()) return OLORA_OK;
    thread_local std::vector<float> own;
    if (!scratch) {
        if (static_cast<int64_t>(own.size()) < need) own.resize(static_cast<size_t>(need));
        scratch = own.data();
    }
    if (decode_shaped(segs, (int64_t(in_features) + out_features) * int64_t(elem_size(w_dtype)))) {
        run_per_segment(dtype, w_dtype, x, x_row_stride, scratch, max_rank, row0, y, y_row_stride, segs, a_table,
                        b_table, max_rank, in_features, out_features, slot_scales);
        return OLORA_OK;
    }
    run_shrink(dtype, w_dtype, x, x_row_stride, scratch, max_rank, row0, segs, a_table, max_rank, in_features);
    run_expand(dtype, w_dtype, scratch, max_rank, row0, y, y_row_stride, segs, b_table, max_rank, out_features,
               slot_scales);
    return OLORA_OK;
}

}  // namespace
}  // namespace olora

using namespace olora;

extern "C" OLORA_API int32_t olora_sgmv_shrink(int32_t dtype, const void* x, int64_t x_row_stride, float* v,
                                               int64_t v_row_stride, const int32_t* seg_starts,
                                               const int32_t* seg_slots, int32_t num_segments, const void* a_table,
                                               int32_t num_slots, int32_t max_rank, int32_t in_features,
                                               const int32_t* slot_ranks) {
    if (bad_dtype(dtype) || !x || !v || !a_table || in_features < 1 || x_row_stride < in_features ||
        v_row_stride < max_rank)
        return OLORA_E_ARGUMENT;
    thread_local std::vector<Seg> segs;
    const int rc = check_segments(seg_starts, seg_slots, num_segments, num_slots, max_rank, slot_ranks, segs);
    if (rc != OLORA_OK || segs.empty()) return rc;
    run_shrink(dtype, dtype, x, x_row_stride, v, v_row_stride, 0, segs, a_table, max_rank, in_features);
    return OLORA_OK;
}

extern "C" OLORA_API int32_t olora_sgmv_expand(int32_t dtype, const float* v, int64_t v_row_stride, void* y,
                                               int64_t y_row_stride, const int32_t* seg_starts,
                                               const int32_t* seg_slots, int32_t num_segments, const void* b_table,
                                               int32_t num_slots, int32_t max_rank, int32_t out_features,
                                               const int32_t* slot_ranks, const float* slot_scales) {
    if (bad_dtype(dtype) || !v || !y || !b_table || !slot_scales || out_features < 1 ||
        y_row_stride < out_features || v_row_stride < max_rank)
        return OLORA_E_ARGUMENT;
    thread_local std::vector<Seg> segs;
    const int rc = check_segments(seg_starts, seg_slots, num_segments, num_slots, max_rank, slot_ranks, segs);
    if (rc != OLORA_OK || segs.empty()) return rc;
    run_expand(dtype, dtype, v, v_row_stride, 0, y, y_row_stride, segs, b_table, max_rank, out_features, slot_scales);
    return OLORA_OK;
}

extern "C" OLORA_API int64_t olora_sgmv_scratch_elems(int32_t rows, int32_t max_rank) {
    if (rows < 0 || max_rank < 1) return OLORA_E_ARGUMENT;
    return static_cast<int64_t>(rows) * max_rank;
}

extern "C" OLORA_API int32_t olora_sgmv(int32_t dtype, const void* x, int64_t x_row_stride, void* y,
                                        int64_t y_row_stride, const int32_t* seg_starts, const int32_t* seg_slots,
                                        int32_t num_segments, const void* a_table, const void* b_table,
                                        int32_t num_slots, int32_t max_rank, int32_t in_features,
                                        int32_t out_features, const int32_t* slot_ranks, const float* slot_scales,
                                        float* scratch, int64_t scratch_elems) {
    return fused(dtype, dtype, x, x_row_stride, y, y_row_stride, seg_starts, seg_slots, num_segments, a_table,
                 b_table, num_slots, max_rank, in_features, out_features, slot_ranks, slot_scales, scratch,
                 scratch_elems);
}

extern "C" OLORA_API int32_t olora_sgmv_mixed(int32_t dtype, int32_t weight_dtype, const void* x, int64_t x_row_stride,
                                              void* y, int64_t y_row_stride, const int32_t* seg_starts,
                                              const int32_t* seg_slots, int32_t num_segments, const void* a_table,
                                              const void* b_table, int32_t num_slots, int32_t max_rank,
                                              int32_t in_features, int32_t out_features, const int32_t* slot_ranks,
                                              const float* slot_scales, float* scratch, int64_t scratch_elems) {
    return fused(dtype, weight_dtype, x, x_row_stride, y, y_row_stride, seg_starts, seg_slots, num_segments,
                 a_table, b_table, num_slots, max_rank, in_features, out_features, slot_ranks, slot_scales, scratch,
                 scratch_elems);
}

extern "C" OLORA_API int32_t olora_bgmv(int32_t dtype, const void* x, int64_t x_row_stride, void* y,
                                        int64_t y_row_stride, int32_t num_rows, const int32_t* row_slots,
                                        const void* a_table, const void* b_table, int32_t num_slots,
                                        int32_t max_rank, int32_t in_features, int32_t out_features,
                                        const int32_t* slot_ranks, const float* slot_scales, float* scratch,
                                        int64_t scratch_elems) {
    if (num_rows < 0 || (num_rows > 0 && !row_slots)) return OLORA_E_ARGUMENT;
    thread_local std::vector<int32_t> starts, slots;
    starts.assign(1, 0);
    slots.clear();
    for (int32_t i = 0; i < num_rows; ++i) {
        if (!slots.empty() && slots.back() == row_slots[i]) {
            starts.back() = i + 1;
            continue;
        }
        slots.push_back(row_slots[i]);
        starts.push_back(i + 1);
    }
    return fused(dtype, dtype, x, x_row_stride, y, y_row_stride, starts.data(), slots.data(),
                 static_cast<int32_t>(slots.size()), a_table, b_table, num_slots, max_rank, in_features,
                 out_features, slot_ranks, slot_scales, scratch, scratch_elems);
}
