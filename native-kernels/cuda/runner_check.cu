// Checks every kernel of the CUDA runner (olora_cuda_runner.h) against the CPU kernel of the same
// contract (olora_kernels.h) on random inputs, outputs poisoned first (NaN, or random values where
// the kernel accumulates, so rows a kernel must not touch are checked too). One line per check:
//   PASS|FAIL <name>  max rel err <e> (tol <t>)
// and, with --bench (or --bench-only, without the checks), benchmark lines "BENCH <name> <value> <unit>". Exit status 0 only when every
// check passes. Run by scripts/gpu-check.sh on a GPU machine (H200, 2026-12-04: every check passed).
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "olora_cuda_math.h"
#include "olora_cuda_runner.h"
#include "olora_kernels.h"

namespace {

using namespace olora_cuda;

std::mt19937 rng(2024);
olora_cuda_context* ctx = nullptr;
int passed = 0, failed = 0;

std::vector<float> uniform(size_t n, float lo, float hi) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

std::vector<uint16_t> to_bf16(const std::vector<float>& v) {
    std::vector<uint16_t> h(v.size());
    for (size_t i = 0; i < v.size(); ++i) h[i] = f32_to_bf16(v[i]);
    return h;
}

std::vector<float> from_bf16(const std::vector<uint16_t>& h) {
    std::vector<float> v(h.size());
    for (size_t i = 0; i < h.size(); ++i) v[i] = bf16_to_f32(h[i]);
    return v;
}

// Rounds through bf16: what the GPU sees of a float input stored as bf16.
std::vector<float> bf16_round(const std::vector<float>& v) { return from_bf16(to_bf16(v)); }

void report(bool ok, const std::string& name, double err, double tol) {
    std::printf("%s %-58s max rel err %.3g (tol %.1g)\n", ok ? "PASS" : "FAIL", name.c_str(), err, tol);
    std::fflush(stdout);
    (ok ? passed : failed)++;
}

void fail_line(const std::string& name, const char* why) {
    char msg[512] = {0};
    olora_cuda_last_error(msg, sizeof msg);
    std::printf("FAIL %-58s %s: %s\n", name.c_str(), why, msg);
    std::fflush(stdout);
    ++failed;
}

// Device buffer owned by the context (the context's allocator is under test too).
template <typename T>
struct Dev {
    T* p = nullptr;
    size_t n = 0;
    explicit Dev(size_t count) : n(count) {
        void* v = nullptr;
        if (olora_cuda_alloc(ctx, int64_t(std::max<size_t>(count, 1) * sizeof(T)), &v) == OLORA_CUDA_OK)
            p = static_cast<T*>(v);
    }
    explicit Dev(const std::vector<T>& h) : Dev(h.size()) { put(h); }
    ~Dev() {
        if (p) olora_cuda_free(ctx, p);
    }
    void put(const std::vector<T>& h) {
        if (p && !h.empty()) olora_cuda_upload(ctx, p, h.data(), int64_t(h.size() * sizeof(T)));
    }
    // Fills with 0xFF bytes: NaN for float and bf16, -1 for ints. On the context's stream: it is
    // non-blocking, so a memset on the legacy default stream would not be ordered before the kernel.
    void poison() {
        if (p)
            cudaMemsetAsync(p, 0xFF, std::max<size_t>(n, 1) * sizeof(T),
                            static_cast<cudaStream_t>(olora_cuda_context_stream(ctx)));
    }
    std::vector<T> get() const {
        std::vector<T> h(n);
        olora_cuda_synchronize(ctx);
        if (p && n) olora_cuda_download(ctx, h.data(), p, int64_t(n * sizeof(T)));
        return h;
    }
};

void* stream() { return olora_cuda_context_stream(ctx); }

double max_rel(const std::vector<float>& got, const std::vector<float>& want) {
    double worst = 0;
    for (size_t i = 0; i < want.size(); ++i) {
        const double d = std::fabs(double(got[i]) - want[i]) / (1.0 + std::fabs(double(want[i])));
        if (!(d <= worst)) worst = std::isnan(d) ? INFINITY : d;
    }
    return worst;
}

void compare(const std::string& name, const std::vector<float>& got, const std::vector<float>& want, double tol) {
    const double e = max_rel(got, want);
    report(e <= tol, name, e, tol);
}

bool launched(int32_t rc, const std::string& name) {
    if (rc == OLORA_CUDA_OK) return true;
    fail_line(name, "launch failed");
    return false;
}

// ---------------------------------------------------------------------------------------------
void check_rmsnorm(int rows, int hidden, bool add) {
    const std::string name = "add_rmsnorm rows=" + std::to_string(rows) + " hidden=" + std::to_string(hidden) +
                             (add ? "" : " (no add)");
    const auto x = uniform(static_cast<size_t>(rows) * hidden, -2, 2), res0 = uniform(static_cast<size_t>(rows) * hidden, -2, 2);
    const auto w = bf16_round(uniform(static_cast<size_t>(hidden), 0.5f, 1.5f));
    std::vector<float> res_cpu = res0, out_cpu(x.size());
    if (add) {
        olora_add_rmsnorm(x.data(), hidden, res_cpu.data(), hidden, w.data(), out_cpu.data(), hidden, rows, hidden, 1e-5f);
    } else {
        olora_rmsnorm(res_cpu.data(), hidden, w.data(), out_cpu.data(), hidden, rows, hidden, 1e-5f);
    }
    Dev<float> dx(x), dres(res0);
    Dev<uint16_t> dw(to_bf16(w)), dout(x.size());
    dout.poison();
    if (!launched(olora_cuda_add_rmsnorm(add ? dx.p : nullptr, dres.p, dw.p, dout.p, rows, hidden, 1e-5f, stream()), name))
        return;
    compare(name + " out", from_bf16(dout.get()), out_cpu, 8e-3);
    compare(name + " residual", dres.get(), res_cpu, 1e-6);
}

void check_rope(int kind) {
    const std::string name = std::string("rope ") + (kind == 0 ? "default" : kind == 1 ? "linear" : "llama3");
    const int d = 128, heads = 8, kvh = 2, maxpos = 4096, tokens = 37;
    const RopeParams p{kind, d, 500000.0, 8.0, 1.0, 4.0, 8192.0};
    std::vector<float> cos_t(static_cast<size_t>(maxpos) * d), sin_t(cos_t.size());
    rope_fill_tables(p, maxpos, cos_t.data(), sin_t.data());
    Dev<float> dcos(cos_t.size()), dsin(sin_t.size());
    dcos.poison();
    dsin.poison();
    if (!launched(olora_cuda_rope_tables(dcos.p, dsin.p, maxpos, d, kind, p.theta, p.factor, p.low_freq_factor,
                                         p.high_freq_factor, p.original_max_positions, stream()),
                  name + " tables"))
        return;
    compare(name + " cos table", dcos.get(), cos_t, 1e-6);
    compare(name + " sin table", dsin.get(), sin_t, 1e-6);
    std::vector<int32_t> pos(tokens);
    for (auto& v : pos) v = int32_t(rng() % maxpos);
    const auto q = uniform(static_cast<size_t>(tokens) * heads * d, -1, 1), k = uniform(static_cast<size_t>(tokens) * kvh * d, -1, 1);
    std::vector<float> qc = q, kc = k;
    olora_rope(qc.data(), heads * d, heads, kc.data(), kvh * d, kvh, d, pos.data(), tokens, cos_t.data(), sin_t.data(),
               maxpos);
    Dev<float> dq(q), dk(k), dcos2(cos_t), dsin2(sin_t);
    Dev<int32_t> dpos(pos);
    if (!launched(olora_cuda_rope(dq.p, heads * d, heads, dk.p, kvh * d, kvh, d, dpos.p, tokens, dcos2.p, dsin2.p,
                                  stream()),
                  name))
        return;
    compare(name + " q", dq.get(), qc, 1e-6);
    compare(name + " k", dk.get(), kc, 1e-6);
}

// A paged cache with shuffled blocks holding the given contexts, filled on both sides by appends.
struct Cache {
    int bs, kvh, d, num_blocks, max_blocks;
    std::vector<int32_t> tables;  // [num_seqs, max_blocks]
    std::vector<uint16_t> k_cpu, v_cpu;
    std::unique_ptr<Dev<uint16_t>> kd, vd;
    Cache(int bs_, int kvh_, int d_, const std::vector<int>& lens) : bs(bs_), kvh(kvh_), d(d_), max_blocks(1) {
        for (int len : lens) max_blocks = std::max(max_blocks, (len + bs - 1) / bs);
        num_blocks = int(lens.size()) * max_blocks + 3;
        std::vector<int32_t> perm(static_cast<size_t>(num_blocks));
        std::iota(perm.begin(), perm.end(), 0);
        std::shuffle(perm.begin(), perm.end(), rng);
        tables.assign(lens.size() * size_t(max_blocks), -1);
        const size_t pool = size_t(num_blocks) * kvh * bs * d;
        k_cpu.assign(pool, 0x7fc0);
        v_cpu.assign(pool, 0x7fc0);
        kd = std::make_unique<Dev<uint16_t>>(pool);
        vd = std::make_unique<Dev<uint16_t>>(pool);
        kd->poison();
        vd->poison();
        size_t next = 0;
        std::vector<int64_t> slots;
        for (size_t s = 0; s < lens.size(); ++s) {
            for (int b = 0; b < (lens[s] + bs - 1) / bs; ++b) tables[s * max_blocks + b] = perm[next++];
            for (int p = 0; p < lens[s]; ++p) slots.push_back(kv_slot(&tables[s * max_blocks], p, bs));
        }
        const int n = int(slots.size());
        const auto keys = uniform(static_cast<size_t>(n) * kvh * d, -1, 1), vals = uniform(static_cast<size_t>(n) * kvh * d, -1, 1);
        olora_kv_append(OLORA_DTYPE_BF16, keys.data(), kvh * d, vals.data(), kvh * d, slots.data(), n, k_cpu.data(),
                        v_cpu.data(), num_blocks, bs, kvh, d);
        Dev<float> dk(keys), dv(vals);
        Dev<int64_t> dslots(slots);
        if (olora_cuda_kv_append(dk.p, kvh * d, dv.p, kvh * d, dslots.p, n, kd->p, vd->p, bs, kvh, d, stream()) !=
            OLORA_CUDA_OK)
            fail_line("kv_append", "launch failed");
        olora_cuda_synchronize(ctx);
    }
};

void check_kv_append() {
    Cache c(16, 4, 64, {1, 40, 0, 77});
    const auto kg = c.kd->get(), vg = c.vd->get();
    // Written rows must equal the CPU's bit for bit; unwritten rows stay poisoned (NaN) on both.
    size_t bad = 0;
    for (size_t i = 0; i < kg.size(); ++i) {
        const bool cpu_nan = std::isnan(bf16_to_f32(c.k_cpu[i])), gpu_nan = std::isnan(bf16_to_f32(kg[i]));
        if (cpu_nan != gpu_nan || (!cpu_nan && (kg[i] != c.k_cpu[i] || vg[i] != c.v_cpu[i]))) ++bad;
    }
    report(bad == 0, "kv_append bf16 pools (bitwise, unwritten rows untouched)", double(bad), 0);
}

void check_decode(const std::vector<int>& lens, int heads, int kvh, int d, int window) {
    const std::string name = "paged decode seqs=" + std::to_string(lens.size()) + " H=" + std::to_string(heads) +
                             "/" + std::to_string(kvh) + " d=" + std::to_string(d) + " window=" + std::to_string(window);
    Cache c(16, kvh, d, lens);
    const int n = int(lens.size()), max_ctx = *std::max_element(lens.begin(), lens.end());
    const auto q = uniform(static_cast<size_t>(n) * heads * d, -1, 1);
    std::vector<float> out_cpu(q.size(), NAN);
    if (olora_paged_attention_decode(OLORA_DTYPE_BF16, q.data(), heads * d, out_cpu.data(), heads * d, c.k_cpu.data(),
                                     c.v_cpu.data(), c.num_blocks, c.bs, c.tables.data(), c.max_blocks, c.max_blocks,
                                     lens.data(), n, heads, kvh, d, window) != OLORA_OK) {
        fail_line(name, "CPU reference refused the arguments");
        return;
    }
    Dev<float> dq(q);
    Dev<uint16_t> dout(q.size());
    Dev<int32_t> dt(c.tables), dl(std::vector<int32_t>(lens.begin(), lens.end()));
    const int64_t sf = olora_cuda_decode_scratch_floats(n, heads, d, max_ctx);
    Dev<float> scratch(static_cast<size_t>(sf));
    dout.poison();
    scratch.poison();
    if (!launched(olora_cuda_paged_attention_decode(dq.p, heads * d, dout.p, heads * d, c.kd->p, c.vd->p, c.bs,
                                                    dt.p, c.max_blocks, dl.p, n, max_ctx, heads, kvh, d, window,
                                                    scratch.p, sf, stream()),
                  name))
        return;
    compare(name, from_bf16(dout.get()), out_cpu, 8e-3);
}

void check_prefill(const std::vector<int>& chunk, const std::vector<int>& lens, int heads, int kvh, int d,
                   int window) {
    std::string name = "paged prefill T=";
    for (int t : chunk) name += std::to_string(t) + ",";
    name += " H=" + std::to_string(heads) + "/" + std::to_string(kvh) + " d=" + std::to_string(d) +
            " window=" + std::to_string(window);
    Cache c(16, kvh, d, lens);
    const int n = int(lens.size());
    std::vector<int32_t> qsl(static_cast<size_t>(n) + 1, 0);
    for (int i = 0; i < n; ++i) qsl[size_t(i) + 1] = qsl[size_t(i)] + chunk[size_t(i)];
    const int rows = qsl.back(), max_t = *std::max_element(chunk.begin(), chunk.end());
    const auto q = uniform(static_cast<size_t>(rows) * heads * d, -1, 1);
    std::vector<float> out_cpu(q.size(), NAN);
    if (olora_paged_attention_prefill(OLORA_DTYPE_BF16, q.data(), heads * d, out_cpu.data(), heads * d, c.k_cpu.data(),
                                      c.v_cpu.data(), c.num_blocks, c.bs, c.tables.data(), c.max_blocks, c.max_blocks,
                                      qsl.data(), lens.data(), n, heads, kvh, d, window) != OLORA_OK) {
        fail_line(name, "CPU reference refused the arguments");
        return;
    }
    Dev<float> dq(q);
    Dev<uint16_t> dout(q.size());
    Dev<int32_t> dt(c.tables), dl(std::vector<int32_t>(lens.begin(), lens.end())), dqsl(qsl);
    dout.poison();
    if (!launched(olora_cuda_paged_attention_prefill(dq.p, heads * d, dout.p, heads * d, c.kd->p, c.vd->p, c.bs,
                                                     dt.p, c.max_blocks, dqsl.p, dl.p, n, max_t, heads, kvh, d, window,
                                                     stream()),
                  name))
        return;
    compare(name, from_bf16(dout.get()), out_cpu, 8e-3);
}

void check_swiglu(int rows, int inter) {
    const auto gu = uniform(static_cast<size_t>(rows) * 2 * inter, -12, 12);
    std::vector<float> out_cpu(static_cast<size_t>(rows) * inter);
    olora_swiglu(gu.data(), 2 * inter, out_cpu.data(), inter, rows, inter);
    Dev<float> dgu(gu);
    Dev<uint16_t> dout(out_cpu.size());
    dout.poison();
    const std::string name = "swiglu rows=" + std::to_string(rows) + " inter=" + std::to_string(inter);
    if (!launched(olora_cuda_swiglu(dgu.p, dout.p, rows, inter, stream()), name)) return;
    compare(name, from_bf16(dout.get()), out_cpu, 8e-3);
}

void check_sgmv(int in, int out, int max_rank, const std::vector<int>& seg_rows, const std::vector<int>& seg_slots,
                const std::vector<int>& ranks) {
    const std::string name = "sgmv bf16 in=" + std::to_string(in) + " out=" + std::to_string(out) +
                             " segs=" + std::to_string(seg_rows.size()) + " max_rank=" + std::to_string(max_rank);
    const int nseg = int(seg_rows.size()), nslots = int(ranks.size());
    std::vector<int32_t> starts(static_cast<size_t>(nseg) + 1, 0), slots(seg_slots.begin(), seg_slots.end()),
        r(ranks.begin(), ranks.end());
    for (int i = 0; i < nseg; ++i) starts[size_t(i) + 1] = starts[size_t(i)] + seg_rows[size_t(i)];
    const int rows = starts.back();
    const auto x = bf16_round(uniform(static_cast<size_t>(rows) * in, -1, 1));
    const auto a = bf16_round(uniform(static_cast<size_t>(nslots) * max_rank * in, -0.1f, 0.1f));
    const auto b = bf16_round(uniform(static_cast<size_t>(nslots) * max_rank * out, -0.1f, 0.1f));
    const auto y0 = uniform(static_cast<size_t>(rows) * out, -1, 1);
    std::vector<float> scales(static_cast<size_t>(nslots));
    for (int s = 0; s < nslots; ++s) scales[size_t(s)] = 2.f / float(ranks[size_t(s)]);
    std::vector<float> v_cpu(static_cast<size_t>(rows) * max_rank, NAN), y_cpu = y0;
    olora_sgmv_shrink(OLORA_DTYPE_F32, x.data(), in, v_cpu.data(), max_rank, starts.data(), slots.data(), nseg,
                      a.data(), nslots, max_rank, in, r.data());
    olora_sgmv_expand(OLORA_DTYPE_F32, v_cpu.data(), max_rank, y_cpu.data(), out, starts.data(), slots.data(), nseg,
                      b.data(), nslots, max_rank, out, r.data(), scales.data());
    const int32_t nt = sgmv_plan(starts.data(), slots.data(), nseg, 16, nullptr, 0);
    std::vector<SgmvTile> tiles(static_cast<size_t>(std::max(nt, 1)));
    sgmv_plan(starts.data(), slots.data(), nseg, 16, tiles.data(), nt);
    std::vector<int32_t> tile_ints(tiles.size() * 4);
    std::memcpy(tile_ints.data(), tiles.data(), tile_ints.size() * 4);
    Dev<uint16_t> dx(to_bf16(x)), da(to_bf16(a)), db(to_bf16(b));
    Dev<float> dv(v_cpu.size()), dy(y0), ds(scales);
    Dev<int32_t> dtiles(tile_ints), dr(r);
    dv.poison();
    if (!launched(olora_cuda_sgmv_shrink(dx.p, in, dv.p, max_rank, dtiles.p, nt, da.p, max_rank, in, dr.p, stream()),
                  name + " shrink") ||
        !launched(olora_cuda_sgmv_expand(dv.p, max_rank, dy.p, out, dtiles.p, nt, db.p, max_rank, out, dr.p, ds.p,
                                         stream()),
                  name + " expand"))
        return;
    // v: only columns < rank of rows with an adapter are defined.
    const auto vg = dv.get();
    std::vector<float> vg_def, vc_def;
    for (int sgi = 0; sgi < nseg; ++sgi) {
        if (slots[size_t(sgi)] < 0) continue;
        for (int row = starts[size_t(sgi)]; row < starts[size_t(sgi) + 1]; ++row)
            for (int k = 0; k < ranks[size_t(slots[size_t(sgi)])]; ++k) {
                vg_def.push_back(vg[size_t(row) * max_rank + k]);
                vc_def.push_back(v_cpu[size_t(row) * max_rank + k]);
            }
    }
    compare(name + " shrink (v)", vg_def, vc_def, 1e-4);
    // y: every row, base rows included (they must keep y0 exactly, as the CPU's do).
    compare(name + " expand (y, base rows untouched)", dy.get(), y_cpu, 1e-4);
}

void check_quant(int m, int n, int k) {
    const std::string shape = " m=" + std::to_string(m) + " n=" + std::to_string(n) + " k=" + std::to_string(k);
    const int64_t numel = int64_t(n) * k;
    const auto w = uniform(static_cast<size_t>(numel), -1, 1), x = bf16_round(uniform(static_cast<size_t>(m) * k, -1, 1));
    std::vector<uint8_t> codes(static_cast<size_t>((numel + 1) / 2));
    std::vector<float> absmax(static_cast<size_t>((numel + 63) / 64)), scales(static_cast<size_t>(n));
    std::vector<int8_t> q(static_cast<size_t>(numel));
    olora_nf4_quantize(w.data(), numel, codes.data(), absmax.data());
    olora_int8_quantize(w.data(), n, k, q.data(), scales.data());
    std::vector<float> y_nf4(static_cast<size_t>(m) * n), y_i8(static_cast<size_t>(m) * n), deq(static_cast<size_t>(numel));
    olora_nf4_linear(x.data(), k, y_nf4.data(), n, m, n, k, codes.data(), absmax.data(), 0);
    olora_int8_linear(x.data(), k, y_i8.data(), n, m, n, k, q.data(), scales.data(), 0);
    olora_nf4_dequantize(codes.data(), absmax.data(), numel, deq.data());
    Dev<uint16_t> dx(to_bf16(x)), ddeq(static_cast<size_t>(numel));
    Dev<uint8_t> dc(codes);
    Dev<float> dam(absmax), dsc(scales), dy(static_cast<size_t>(m) * n);
    Dev<int8_t> dq(q);
    dy.poison();
    if (launched(olora_cuda_nf4_gemv(dx.p, m, n, k, dc.p, dam.p, dy.p, 0, stream()), "nf4_gemv" + shape))
        compare("nf4_gemv" + shape, dy.get(), y_nf4, 1e-4);
    dy.poison();
    if (launched(olora_cuda_int8_gemv(dx.p, m, n, k, dq.p, dsc.p, dy.p, 0, stream()), "int8_gemv" + shape))
        compare("int8_gemv" + shape, dy.get(), y_i8, 1e-4);
    {  // accumulate = 1 adds to what y holds
        const auto y0 = uniform(static_cast<size_t>(m) * n, -1, 1);
        std::vector<float> want_nf4 = y0, want_i8 = y0;
        for (size_t i = 0; i < y0.size(); ++i) {
            want_nf4[i] += y_nf4[i];
            want_i8[i] += y_i8[i];
        }
        dy.put(y0);
        if (launched(olora_cuda_nf4_gemv(dx.p, m, n, k, dc.p, dam.p, dy.p, 1, stream()), "nf4_gemv accumulate" + shape))
            compare("nf4_gemv accumulate" + shape, dy.get(), want_nf4, 1e-4);
        dy.put(y0);
        if (launched(olora_cuda_int8_gemv(dx.p, m, n, k, dq.p, dsc.p, dy.p, 1, stream()), "int8_gemv accumulate" + shape))
            compare("int8_gemv accumulate" + shape, dy.get(), want_i8, 1e-4);
    }
    ddeq.poison();
    std::vector<float> deq_i8(static_cast<size_t>(numel));
    olora_int8_dequantize(q.data(), scales.data(), n, k, deq_i8.data());
    ddeq.poison();
    if (launched(olora_cuda_int8_dequantize_bf16(dq.p, dsc.p, n, k, ddeq.p, stream()), "int8_dequantize_bf16" + shape))
        compare("int8_dequantize_bf16" + shape + " (bitwise)", from_bf16(ddeq.get()), bf16_round(deq_i8), 0);
    ddeq.poison();
    if (launched(olora_cuda_nf4_dequantize_bf16(dc.p, dam.p, numel, ddeq.p, stream()), "nf4_dequantize_bf16" + shape))
        compare("nf4_dequantize_bf16" + shape + " (bitwise)", from_bf16(ddeq.get()), bf16_round(deq), 0);
    // Prefill path: the dequantized bf16 tile through cuBLAS, accumulating onto y.
    const auto y0 = uniform(static_cast<size_t>(m) * n, -1, 1);
    std::vector<float> y_ref = y0, wq = bf16_round(deq);
    olora_gemm_f32(x.data(), k, wq.data(), k, y_ref.data(), n, m, n, k, 1);
    dy.put(y0);
    if (launched(olora_cuda_gemm_bf16(ctx, dx.p, m, k, ddeq.p, n, dy.p, 1), "gemm_bf16 (NF4 tile)" + shape))
        compare("gemm_bf16 (NF4 tile, accumulate)" + shape, dy.get(), y_ref, 1e-3);
}

// ---------------------------------------------------------------------------------------------
// Benchmarks: HBM bandwidth floor (device-to-device copy) and decode-shaped GEMVs against it.
template <typename F>
double time_ms(F f, int iters) {
    f();
    olora_cuda_synchronize(ctx);
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; ++i) f();
    olora_cuda_synchronize(ctx);
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / iters;
}

void bench() {
    const size_t bytes = size_t(1) << 30;
    Dev<uint8_t> src(bytes), dst(bytes);
    cudaStream_t s = static_cast<cudaStream_t>(stream());
    const double copy_ms = time_ms([&] { cudaMemcpyAsync(dst.p, src.p, bytes, cudaMemcpyDeviceToDevice, s); }, 20);
    const double gbps = 2.0 * double(bytes) / (copy_ms * 1e6);  // read + write
    std::printf("BENCH hbm_copy_bandwidth %.1f GB/s\n", gbps);
    const int n = 14336, k = 4096;  // Mistral-7B gate projection
    Dev<uint16_t> x(static_cast<size_t>(64) * k), w(static_cast<size_t>(n) * k);
    Dev<float> y(static_cast<size_t>(64) * n);
    Dev<uint8_t> codes(static_cast<size_t>(n) * k / 2);
    Dev<float> absmax(static_cast<size_t>(n) * k / 64);
    cudaMemset(x.p, 0, x.n * 2);
    cudaMemset(w.p, 0, w.n * 2);
    cudaMemset(codes.p, 0, codes.n);
    cudaMemset(absmax.p, 0, absmax.n * 4);
    cudaDeviceSynchronize();
    for (int m : {1, 8, 32, 64}) {
        const double bf16_ms = time_ms([&] { olora_cuda_gemm_bf16(ctx, x.p, m, k, w.p, n, y.p, 0); }, 50);
        const double floor_bf16 = double(n) * k * 2 / (gbps * 1e6);
        std::printf("BENCH gemm_bf16_m%d_%dx%d %.4f ms floor %.4f ms (%.0f%% of HBM floor)\n", m, n, k, bf16_ms,
                    floor_bf16, 100 * floor_bf16 / bf16_ms);
        const double nf4_ms = time_ms([&] { olora_cuda_nf4_gemv(x.p, m, n, k, codes.p, absmax.p, y.p, 0, stream()); }, 50);
        const double floor_nf4 = double(n) * k * (0.5 + 4.0 / 64) / (gbps * 1e6);
        std::printf("BENCH nf4_gemv_m%d_%dx%d %.4f ms floor %.4f ms (%.0f%% of HBM floor)\n", m, n, k, nf4_ms,
                    floor_nf4, 100 * floor_nf4 / nf4_ms);
    }
    // SGMV: 32 distinct rank-16 adapters, batch 32, q projection 4096 -> 4096.
    const int rows = 32, r = 16, slots = 32;
    std::vector<int32_t> starts(33), seg_slots(32), ranks(static_cast<size_t>(slots), r);
    for (int i = 0; i <= 32; ++i) starts[size_t(i)] = i;
    for (int i = 0; i < 32; ++i) seg_slots[size_t(i)] = i;
    std::vector<SgmvTile> tiles(32);
    sgmv_plan(starts.data(), seg_slots.data(), 32, 16, tiles.data(), 32);
    std::vector<int32_t> ti(128);
    std::memcpy(ti.data(), tiles.data(), 512);
    Dev<int32_t> dti(ti), dr(ranks);
    Dev<uint16_t> a(static_cast<size_t>(slots) * r * k), b(static_cast<size_t>(slots) * r * k);
    Dev<float> v(static_cast<size_t>(rows) * r), sc(std::vector<float>(static_cast<size_t>(slots), 1.f));
    cudaMemset(a.p, 0, a.n * 2);
    cudaMemset(b.p, 0, b.n * 2);
    cudaDeviceSynchronize();  // the memsets ran on the legacy stream, the kernels run on the context's
    const double sgmv_ms = time_ms(
        [&] {
            olora_cuda_sgmv_shrink(x.p, k, v.p, r, dti.p, 32, a.p, r, k, dr.p, stream());
            olora_cuda_sgmv_expand(v.p, r, y.p, k, dti.p, 32, b.p, r, k, dr.p, sc.p, stream());
        },
        50);
    std::printf("BENCH sgmv_32_adapters_r16_b32_4096 %.4f ms\n", sgmv_ms);
}

}  // namespace

int main(int argc, char** argv) {
    // --bench: the checks, then the benchmarks; --bench-only: the benchmarks alone (gpu-check.sh runs the checks
    // first and the benchmarks last, so a short lease still gets every correctness check).
    const bool bench_only = argc > 1 && std::strcmp(argv[1], "--bench-only") == 0;
    const bool do_bench = bench_only || (argc > 1 && std::strcmp(argv[1], "--bench") == 0);
    int32_t count = 0;
    char msg[512] = {0};
    if (olora_cuda_device_count(&count) != OLORA_CUDA_OK) {
        olora_cuda_last_error(msg, sizeof msg);
        std::printf("FAIL device: %s\n", msg);
        return 2;
    }
    char name[256];
    int32_t major = 0, minor = 0;
    int64_t total = 0, free_b = 0;
    olora_cuda_device_info(0, name, sizeof name, &major, &minor, &total, &free_b);
    std::printf("device 0: %s sm_%d%d, %.1f GiB (%.1f free)\n", name, major, minor, total / 1073741824.0,
                free_b / 1073741824.0);
    if (olora_cuda_context_create(0, &ctx) != OLORA_CUDA_OK) {
        olora_cuda_last_error(msg, sizeof msg);
        std::printf("FAIL context: %s\n", msg);
        return 2;
    }
    if (bench_only) {
        bench();
        olora_cuda_context_destroy(ctx);
        std::printf("runner_check: benchmarks only\n");
        return 0;
    }
    {
        void* p = nullptr;
        int64_t held = 0, f = 0, t = 0;
        olora_cuda_alloc(ctx, 1 << 20, &p);
        olora_cuda_context_memory(ctx, &held, &f, &t);
        report(held == (1 << 20) && t == total, "context memory accounting", double(held), 0);
        olora_cuda_free(ctx, p);
    }
    check_rmsnorm(3, 4096, true);
    check_rmsnorm(5, 1000, false);
    for (int kind : {0, 1, 2}) check_rope(kind);
    check_kv_append();
    check_decode({1, 17, 300, 0, 700}, 8, 2, 128, 0);
    check_decode({1000, 5}, 32, 8, 128, 0);
    check_decode({600, 33}, 4, 4, 64, 257);  // Mistral-style window shorter than the context
    check_decode({2500, 1, 130}, 4, 2, 128, 0);  // parts of 256 positions, more than 8 of them
    check_decode({70, 9}, 2, 1, 36, 0);          // head_dim % 8 != 0: the scalar key loads
    check_prefill({1, 17, 40, 0}, {1, 30, 40, 9}, 8, 2, 128, 0);
    check_prefill({33, 64}, {100, 64}, 4, 1, 96, 20);
    check_swiglu(7, 1000);
    {
        std::vector<int> rows, slots, ranks;
        for (int i = 0; i < 24; ++i) {
            rows.push_back(i % 7 == 3 ? 0 : 1 + (i * 5) % 19);
            slots.push_back(i % 9 == 8 ? -1 : i % 6);
        }
        check_sgmv(4096, 4096, 128, rows, slots, {1, 4, 16, 64, 128, 3});
        check_sgmv(1000, 1029, 17, {5, 0, 2, 3}, {0, -1, 1, -1}, {17, 8});
        check_sgmv(999, 64, 8, {3, 2}, {0, 1}, {8, 5});  // in % 8 != 0: the shrink's scalar loads
    }
    check_quant(1, 4096, 4096);
    check_quant(8, 1000, 4096);
    check_quant(3, 17, 1000);
    // The vectorized GEMVs' row blocking: 2 rows, 4 of a block of 4 used 3, 8 + 3 rows in two blocks of 8.
    check_quant(2, 300, 512);
    check_quant(3, 129, 1024);
    check_quant(11, 77, 256);
    check_quant(3, 33, 1008);  // k % 16 == 0 but not % 64: int8 vectorized, NF4 the per-element kernel
    if (do_bench) bench();
    olora_cuda_context_destroy(ctx);
    std::printf("runner_check: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
