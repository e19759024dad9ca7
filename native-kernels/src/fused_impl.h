// The fused decode-step kernels written once over a vector type V, compiled three times
// (fused_scalar.cpp, fused_avx2.cpp, fused_avx512.cpp). Each of those files includes every header
// it needs, opens `#pragma GCC target(...)` for its ISA, defines V, and includes this file inside an
// anonymous namespace, so no function here can be merged across ISAs by the linker. Do not include
// any header from this file: a standard-library inline function first instantiated under an ISA
// pragma could be picked by the linker for the whole library.
//
// V provides: R (register type), W (lanes), kRegs (architectural vector registers), zero, set1,
// load / loadn / loadn_or (n < W lanes, the rest zero or `fill`), store / storen, load_bf16 /
// loadn_bf16, store_bf16 / storen_bf16 (round to nearest even), add, sub, mul, div, fma (a * b + c,
// one rounding), max, reduce_add, reduce_max, reduce4 (four horizontal sums at once), lane0,
// any_nan, first_match (first lane equal to m, or NaN; -1 if none), first_above (first lane above
// t, or NaN); and either kLibmExp with exp,
// or min, round (to nearest), scale2 (y * 2^n), if_greater / if_less for vexp below.
//
// The sources are compiled with -ffp-contract=off, so a mul followed by an add stays two roundings
// where the engine's libtorch ops round twice (RoPE); FMAs are written out where wanted.

using R = V::R;
constexpr int W = V::W;
constexpr float kNegInf = -__builtin_inff();

// exp with NaN kept, +inf above 88.72283 (just below log(FLT_MAX)) and 0 below -103.97 (where
// float32 underflows): Cephes expf, n = round(x / ln 2), r = x - n ln 2 in two parts (n C1 is
// exact), a degree-7 polynomial (within 2 ulp), times 2^n (denormal results rounded once).
template <typename T = V>
R vexp(R x) {
    if constexpr (T::kLibmExp) {
        return T::exp(x);
    } else {
        const R hi = T::set1(88.7228317f), lo = T::set1(-103.972084f);
        const R xc = T::min(hi, T::max(lo, x));  // NaN passes through (max / min return their second operand)
        const R n = T::round(T::mul(xc, T::set1(1.44269504088896341f)));
        R r = T::fma(n, T::set1(-0.693359375f), xc);
        r = T::fma(n, T::set1(2.12194440e-4f), r);
        R p = T::set1(1.9875691500e-4f);
        p = T::fma(p, r, T::set1(1.3981999507e-3f));
        p = T::fma(p, r, T::set1(8.3334519073e-3f));
        p = T::fma(p, r, T::set1(4.1665795894e-2f));
        p = T::fma(p, r, T::set1(1.6666665459e-1f));
        p = T::fma(p, r, T::set1(5.0000001201e-1f));
        const R y = T::scale2(T::fma(p, T::mul(r, r), T::add(r, T::set1(1.f))), n);
        return T::if_less(x, lo, T::zero(), T::if_greater(x, hi, T::set1(__builtin_inff()), y));
    }
}

// ---------------------------------------------------------------------------------------------
// Rows of the small ops.

void store_row(int dtype, const float* src, void* dst, int n) {
    if (dtype == OLORA_DTYPE_F32) {
        __builtin_memcpy(dst, src, sizeof(float) * size_t(n));
        return;
    }
    uint16_t* d = static_cast<uint16_t*>(dst);
    int i = 0;
    for (; i + W <= n; i += W) V::store_bf16(d + i, V::load(src + i));
    if (i < n) V::storen_bf16(d + i, V::loadn(src + i, n - i), n - i);
}

float sum_squares(const float* x, int n) {
    R a0 = V::zero(), a1 = V::zero(), a2 = V::zero(), a3 = V::zero();
    int i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
        const R x0 = V::load(x + i), x1 = V::load(x + i + W), x2 = V::load(x + i + 2 * W), x3 = V::load(x + i + 3 * W);
        a0 = V::fma(x0, x0, a0);
        a1 = V::fma(x1, x1, a1);
        a2 = V::fma(x2, x2, a2);
        a3 = V::fma(x3, x3, a3);
    }
    for (; i + W <= n; i += W) {
        const R v = V::load(x + i);
        a0 = V::fma(v, v, a0);
    }
    if (i < n) {
        const R v = V::loadn(x + i, n - i);
        a1 = V::fma(v, v, a1);
    }
    return V::reduce_add(V::add(V::add(a0, a1), V::add(a2, a3)));
}

// out = (x * r) * w, the engine's order (normalize, then the weight).
void scale_row(const float* x, float r, const float* w, float* out, int n) {
    const R rv = V::set1(r);
    int i = 0;
    for (; i + W <= n; i += W) V::store(out + i, V::mul(V::mul(V::load(x + i), rv), V::load(w + i)));
    if (i < n) V::storen(out + i, V::mul(V::mul(V::loadn(x + i, n - i), rv), V::loadn(w + i, n - i)), n - i);
}

// 1 / sqrt(mean + eps) in float32, as transformers' RMSNorm: variance = sum / n, then rsqrt.
float inv_rms(float sum_sq, int n, float eps) { return 1.f / __builtin_sqrtf(sum_sq / float(n) + eps); }

void rmsnorm_row(const float* x, const float* w, float* out, int n, float eps) {
    scale_row(x, inv_rms(sum_squares(x, n), n, eps), w, out, n);
}

// residual += x, then rmsnorm_row of it: the sum of squares in rmsnorm_row's order (a second pass, over a row
// still in cache), so an add followed by a norm gives the same bits fused or not, and a decode step that defers the
// MLP's residual add into the next norm (LlamaModel's decode buffers) matches the general path exactly.
void add_rmsnorm_row(const float* x, float* residual, const float* w, float* out, int n, float eps) {
    int i = 0;
    for (; i + W <= n; i += W) V::store(residual + i, V::add(V::load(x + i), V::load(residual + i)));
    if (i < n) V::storen(residual + i, V::add(V::loadn(x + i, n - i), V::loadn(residual + i, n - i)), n - i);
    rmsnorm_row(residual, w, out, n, eps);
}

// transformers: q * cos + rotate_half(q) * sin, rotate_half(q) = cat(-q2, q1): two products and a
// sum, each rounded (no FMA), so the result has the bits libtorch computes.
void rope_heads(float* x, int heads, int d, const float* cos, const float* sin) {
    const int half = d / 2;
    for (int h = 0; h < heads; ++h) {
        float* x1p = x + int64_t(h) * d;
        float* x2p = x1p + half;
        for (int i = 0; i < half; i += W) {
            const int c = half - i < W ? half - i : W;
            const R x1 = V::loadn(x1p + i, c), x2 = V::loadn(x2p + i, c);
            const R o1 = V::sub(V::mul(x1, V::loadn(cos + i, c)), V::mul(x2, V::loadn(sin + i, c)));
            const R o2 = V::add(V::mul(x2, V::loadn(cos + half + i, c)), V::mul(x1, V::loadn(sin + half + i, c)));
            V::storen(x1p + i, o1, c);
            V::storen(x2p + i, o2, c);
        }
    }
}

// libtorch's silu: x / (1 + exp(-x)), then * up.
R silu_mul(R g, R u) { return V::mul(V::div(g, V::add(V::set1(1.f), vexp(V::sub(V::zero(), g)))), u); }

void swiglu_row(const float* gate, const float* up, float* out, int n) {
    int i = 0;
    for (; i + W <= n; i += W) V::store(out + i, silu_mul(V::load(gate + i), V::load(up + i)));
    if (i < n) V::storen(out + i, silu_mul(V::loadn(gate + i, n - i), V::loadn(up + i, n - i)), n - i);
}

int32_t argmax_row(const float* x, int n) {
    R m = V::set1(kNegInf);
    bool nan = false;
    int i = 0;
    for (; i + W <= n; i += W) {
        const R v = V::load(x + i);
        nan |= V::any_nan(v);
        m = V::max(m, v);
    }
    if (i < n) {
        const R v = V::loadn_or(x + i, n - i, kNegInf);
        nan |= V::any_nan(v);
        m = V::max(m, v);
    }
    // A NaN is the maximum (as torch.argmax); first_match finds NaN lanes whatever `best` is.
    const float best = nan ? __builtin_nanf("") : V::reduce_max(m);
    for (i = 0; i + W <= n; i += W) {
        const int lane = V::first_match(V::load(x + i), best);
        if (lane >= 0) return i + lane;
    }
    if (i < n) {
        const int lane = V::first_match(V::loadn_or(x + i, n - i, kNegInf), best);
        if (lane >= 0) return i + lane;
    }
    return 0;  // all -inf
}

int32_t next_above(const float* x, int32_t from, int32_t n, float t) {
    int32_t i = from;
    for (; i + W <= n; i += W) {
        const int lane = V::first_above(V::load(x + i), t);
        if (lane >= 0) return i + lane;
    }
    if (i < n) {
        const int lane = V::first_above(V::loadn_or(x + i, n - i, kNegInf), t);
        if (lane >= 0) return i + lane;
    }
    return n;
}

// ---------------------------------------------------------------------------------------------
// Attention core (see AttnTask): online softmax over chunks of kAttnChunk key positions.

// Horizontal sums of `N` accumulators into out[N], four at a time.
template <int N>
inline void reduce_n(const R (&a)[N], float* out) {
    int i = 0;
    for (; i + 4 <= N; i += 4) V::reduce4(a[i], a[i + 1], a[i + 2], a[i + 3], out + i);
    if (N - i == 3) {
        V::reduce4(a[i], a[i + 1], a[i + 2], V::zero(), out + i);  // writes out[i + 3]: callers size out to round-up 4
    } else if (N - i == 2) {
        V::reduce4(a[i], a[i + 1], V::zero(), V::zero(), out + i);
    } else if (N - i == 1) {
        out[i] = V::reduce_add(a[i]);
    }
}

// S[i * lds + j] = scale * q_i . k_j for RB query rows (zero-padded tile, stride ldq) and KB keys.
template <int RB, int KB>
inline void score_block(const float* q, int ldq, const float* const* k, int d, float scale, float* s, int lds) {
    R acc[RB * KB];
    for (int i = 0; i < RB * KB; ++i) acc[i] = V::zero();
    const int full = d / W * W;
    for (int e = 0; e < full; e += W) {
        R kv[KB];
        for (int b = 0; b < KB; ++b) kv[b] = V::load(k[b] + e);
        for (int i = 0; i < RB; ++i) {
            const R qv = V::load(q + i * ldq + e);
            for (int b = 0; b < KB; ++b) acc[i * KB + b] = V::fma(qv, kv[b], acc[i * KB + b]);
        }
    }
    if (full < d) {
        R kv[KB];
        for (int b = 0; b < KB; ++b) kv[b] = V::loadn(k[b] + full, d - full);
        for (int i = 0; i < RB; ++i) {
            const R qv = V::load(q + i * ldq + full);
            for (int b = 0; b < KB; ++b) acc[i * KB + b] = V::fma(qv, kv[b], acc[i * KB + b]);
        }
    }
    float r[(RB * KB + 3) / 4 * 4];
    reduce_n<RB * KB>(acc, r);
    for (int i = 0; i < RB; ++i)
        for (int b = 0; b < KB; ++b) s[i * lds + b] = r[i * KB + b] * scale;
}

// Enough independent FMA chains to cover the FMA latency, and few enough accumulators to stay in
// registers: 4 rows x 2 keys, 2 x 4, 1 x 4 (3 rows: 3 x 2).
template <int RB>
void score_rows(const float* q, int ldq, const float* const* k, int n, int d, float scale, float* s, int lds) {
    constexpr int KB = RB >= 3 ? 2 : 4;
    int j = 0;
    for (; j + KB <= n; j += KB) score_block<RB, KB>(q, ldq, k + j, d, scale, s + j, lds);
    for (; j < n; ++j) score_block<RB, 1>(q, ldq, k + j, d, scale, s + j, lds);
}

void scores(const float* q, int ldq, int m, const float* const* k, int n, int d, float scale, float* s, int lds) {
    int i = 0;
    for (; i + 4 <= m; i += 4) score_rows<4>(q + i * ldq, ldq, k, n, d, scale, s + i * lds, lds);
    switch (m - i) {
        case 3:
            score_rows<3>(q + i * ldq, ldq, k, n, d, scale, s + i * lds, lds);
            break;
        case 2:
            score_rows<2>(q + i * ldq, ldq, k, n, d, scale, s + i * lds, lds);
            break;
        case 1:
            score_rows<1>(q + i * ldq, ldq, k, n, d, scale, s + i * lds, lds);
            break;
        default:
            break;
    }
}

// O[i, d0 : d0 + DB*W] += sum_j P[i, j] * v_j[d0 : ...] for RB rows; the block's last vector may
// pass the end of the row (d), whose lanes are then read as zero (O rows are padded).
template <int RB, int DB>
inline void pv_block(const float* p, int ldp, const float* const* v, int n, int d0, int d, float* o, int ldo) {
    R acc[RB][DB];
    for (int i = 0; i < RB; ++i)
        for (int b = 0; b < DB; ++b) acc[i][b] = V::load(o + i * ldo + d0 + b * W);
    const bool tail = d0 + DB * W > d;
    for (int j = 0; j < n; ++j) {
        R vv[DB];
        for (int b = 0; b < DB; ++b)
            vv[b] = (tail && b == DB - 1) ? V::loadn(v[j] + d0 + b * W, d - d0 - b * W) : V::load(v[j] + d0 + b * W);
        for (int i = 0; i < RB; ++i) {
            const R pv = V::set1(p[i * ldp + j]);
            for (int b = 0; b < DB; ++b) acc[i][b] = V::fma(pv, vv[b], acc[i][b]);
        }
    }
    for (int i = 0; i < RB; ++i)
        for (int b = 0; b < DB; ++b) V::store(o + i * ldo + d0 + b * W, acc[i][b]);
}

// Rows per register block: 4 with 32 vector registers (16 accumulators), else 2.
constexpr int kPvRows = V::kRegs >= 32 ? 4 : 2;

template <int RB>
void pv_rows(const float* p, int ldp, const float* const* v, int n, int d, float* o, int ldo) {
    const int nvec = (d + W - 1) / W;
    int e = 0;
    for (; e + 4 <= nvec; e += 4) pv_block<RB, 4>(p, ldp, v, n, e * W, d, o, ldo);
    switch (nvec - e) {
        case 3:
            pv_block<RB, 3>(p, ldp, v, n, e * W, d, o, ldo);
            break;
        case 2:
            pv_block<RB, 2>(p, ldp, v, n, e * W, d, o, ldo);
            break;
        case 1:
            pv_block<RB, 1>(p, ldp, v, n, e * W, d, o, ldo);
            break;
        default:
            break;
    }
}

void pv(const float* p, int ldp, int m, const float* const* v, int n, int d, float* o, int ldo) {
    int i = 0;
    for (; i + kPvRows <= m; i += kPvRows) pv_rows<kPvRows>(p + i * ldp, ldp, v, n, d, o + i * ldo, ldo);
    for (; i < m; ++i) pv_rows<1>(p + i * ldp, ldp, v, n, d, o + i * ldo, ldo);
}

float exp1(float x) { return V::lane0(vexp(V::set1(x))); }

// One online-softmax step over n (<= kAttnChunk) scores per row: turns S into P = exp(S - m_new),
// updates the running maximum m and sum l, and rescales the rows' accumulators.
void softmax_step(float* s, int lds, int m, int n, float* mrow, float* lrow, float* o, int ldo, int dpad) {
    for (int r = 0; r < m; ++r) {
        float* sr = s + r * lds;
        R mx = V::set1(kNegInf);
        for (int j = 0; j < n; j += W)
            mx = V::max(mx, n - j < W ? V::loadn_or(sr + j, n - j, kNegInf) : V::load(sr + j));
        const float old = mrow[r];
        const float cm = V::reduce_max(mx);
        const float mnew = cm > old ? cm : old;
        if (mnew == kNegInf) {  // nothing visible to this row yet: no weights
            for (int j = 0; j < n; ++j) sr[j] = 0.f;
            continue;
        }
        const R mv = V::set1(mnew);
        R sum = V::zero();
        for (int j = 0; j < n; j += W) {
            const int c = n - j < W ? n - j : W;
            const R e = vexp(V::sub(c < W ? V::loadn_or(sr + j, c, kNegInf) : V::load(sr + j), mv));
            V::storen(sr + j, e, c);
            sum = V::add(sum, e);
        }
        const float alpha = old == mnew ? 1.f : old == kNegInf ? 0.f : exp1(old - mnew);
        lrow[r] = lrow[r] * alpha + V::reduce_add(sum);
        mrow[r] = mnew;
        if (alpha != 1.f) {
            const R av = V::set1(alpha);
            float* orow = o + r * ldo;
            for (int e = 0; e < dpad; e += W) V::store(orow + e, V::mul(V::load(orow + e), av));
        }
    }
}

// Copies bf16 row src[0:d] into dst as float32, zero-padded to dpad.
void widen_row(const uint16_t* src, float* dst, int d, int dpad) {
    int e = 0;
    for (; e + W <= d; e += W) V::store(dst + e, V::load_bf16(src + e));
    if (e < d) {
        V::store(dst + e, V::loadn_bf16(src + e, d - e));
        e += W;
    }
    for (; e < dpad; ++e) dst[e] = 0.f;
}

// Sets the scores of key positions a row may not see to -inf: row r (token r / group, position
// pos0 + r / group) sees j with j <= pos and, with a window, j > pos - window.
void mask_scores(float* s, int lds, int m, int group, int pos0, int c0, int n, int window) {
    for (int r = 0; r < m; ++r) {
        const int pos = pos0 + r / group;
        const int first = window > 0 ? pos - window + 1 : c0;
        float* sr = s + r * lds;
        for (int j = 0; j < n; ++j) {
            const int kp = c0 + j;
            if (kp > pos || kp < first) sr[j] = kNegInf;
        }
    }
}

// Storage rows of consecutive key positions of one KV head: position p is row p % bs of block
// table entry p / bs, walked without a division per position.
struct RowWalker {
    const int32_t* table;
    int bs, kv_heads, head, entry, off;
    int64_t next() {
        const int64_t row = (int64_t(table[entry]) * kv_heads + head) * bs + off;
        if (++off == bs) {
            off = 0;
            ++entry;
        }
        return row;
    }
};

void attend(const AttnGeom& g, const AttnTask& t, float* scratch) {
    const int grp = g.group, d = g.head_dim, dp = g.head_dim_pad, m = t.tokens * grp;
    float* qt = scratch;              // [m, dp] query rows, zero-padded
    float* o = qt + int64_t(m) * dp;  // [m, dp] unnormalized outputs
    float* s = o + int64_t(m) * dp;   // [m, kAttnChunk] scores, then weights
    float* mrow = s + int64_t(m) * kAttnChunk;
    float* lrow = mrow + m;
    float* kt = lrow + m;  // [kAttnChunk, dp] bf16 keys widened
    float* vt = kt + int64_t(kAttnChunk) * dp;

    for (int tok = 0; tok < t.tokens; ++tok)
        for (int h = 0; h < grp; ++h) {
            const float* src = t.q + tok * t.q_stride + int64_t(h) * d;
            float* dst = qt + int64_t(tok * grp + h) * dp;
            int e = 0;
            for (; e + W <= d; e += W) V::store(dst + e, V::load(src + e));
            for (; e < d; ++e) dst[e] = src[e];
            for (; e < dp; ++e) dst[e] = 0.f;
        }
    for (int64_t i = 0; i < int64_t(m) * dp; ++i) o[i] = 0.f;
    for (int r = 0; r < m; ++r) {
        mrow[r] = kNegInf;
        lrow[r] = 0.f;
    }

    const int bs = g.block_size;
    const int64_t row_elems = d;
    const bool bf16 = g.cache_dtype == OLORA_DTYPE_BF16;
    const float* kp = static_cast<const float*>(g.k_pool);
    const float* vp = static_cast<const float*>(g.v_pool);
    const uint16_t* kh = static_cast<const uint16_t*>(g.k_pool);
    const uint16_t* vh = static_cast<const uint16_t*>(g.v_pool);
    RowWalker rows{t.block_table, bs, g.kv_heads, t.kv_head, t.lo / bs, t.lo % bs};
    RowWalker ahead = rows;  // one chunk ahead: prefetches the rows of the next chunk
    const int64_t row_bytes = row_elems * (bf16 ? 2 : 4);
    const char* kbase = static_cast<const char*>(g.k_pool);
    const char* vbase = static_cast<const char*>(g.v_pool);
    for (int j = 0; j < kAttnChunk && t.lo + j < t.hi; ++j) ahead.next();
    const int last_pos = t.pos0 + t.tokens - 1;
    const float* krow[kAttnChunk];
    const float* vrow[kAttnChunk];
    for (int c0 = t.lo; c0 < t.hi; c0 += kAttnChunk) {
        const int n = t.hi - c0 < kAttnChunk ? t.hi - c0 : kAttnChunk;
        for (int j = 0; j < n; ++j) {
            const int64_t row = rows.next();
            if (bf16) {
                widen_row(kh + row * row_elems, kt + int64_t(j) * dp, d, dp);
                widen_row(vh + row * row_elems, vt + int64_t(j) * dp, d, dp);
                krow[j] = kt + int64_t(j) * dp;
                vrow[j] = vt + int64_t(j) * dp;
            } else {
                krow[j] = kp + row * row_elems;
                vrow[j] = vp + row * row_elems;
            }
        }
        // Blocks are scattered, each too short for the hardware prefetchers to lock on: fetch the
        // next chunk's rows while this one computes.
        for (int j = 0, c1 = c0 + kAttnChunk; j < kAttnChunk && c1 + j < t.hi; ++j) {
            const int64_t row = ahead.next() * row_bytes;
            for (int64_t b = 0; b < row_bytes; b += 64) {
                __builtin_prefetch(kbase + row + b);
                __builtin_prefetch(vbase + row + b);
            }
        }
        scores(qt, dp, m, krow, n, d, g.scale, s, kAttnChunk);
        // Only chunks that reach past the first row's position, or before the last row's window,
        // hold positions some row may not see.
        if (t.masked && (c0 + n - 1 > t.pos0 || (g.window > 0 && c0 <= last_pos - g.window)))
            mask_scores(s, kAttnChunk, m, grp, t.pos0, c0, n, g.window);
        softmax_step(s, kAttnChunk, m, n, mrow, lrow, o, dp, dp);
        pv(s, kAttnChunk, m, vrow, n, d, o, dp);
    }

    if (t.out) {
        for (int tok = 0; tok < t.tokens; ++tok)
            for (int h = 0; h < grp; ++h) {
                const int r = tok * grp + h;
                float* dst = t.out + tok * t.out_stride + int64_t(h) * d;
                const float* src = o + int64_t(r) * dp;
                const float l = lrow[r];
                if (l > 0.f) {
                    const R lv = V::set1(l);
                    for (int e = 0; e < d; e += W) {
                        const int c = d - e < W ? d - e : W;
                        V::storen(dst + e, V::div(V::load(src + e), lv), c);
                    }
                } else {  // no key at all (an empty sequence)
                    for (int e = 0; e < d; ++e) dst[e] = 0.f;
                }
            }
    } else {
        for (int64_t i = 0; i < int64_t(m) * dp; ++i) t.part_o[i] = o[i];
        for (int r = 0; r < m; ++r) {
            t.part_m[r] = mrow[r];
            t.part_l[r] = lrow[r];
        }
    }
}

FusedOps make_ops() {
    FusedOps f;
    f.attend = attend;
    f.store_row = store_row;
    f.rmsnorm_row = rmsnorm_row;
    f.add_rmsnorm_row = add_rmsnorm_row;
    f.rope_heads = rope_heads;
    f.swiglu_row = swiglu_row;
    f.argmax_row = argmax_row;
    f.next_above = next_above;
    return f;
}
