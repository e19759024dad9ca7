// RMSNorm, residual add + RMSNorm, RoPE, SwiGLU and argmax against float64 references with derived
// float32 bounds, on every ISA path; outputs poisoned first, padding columns checked untouched.
// RoPE is also checked bit for bit against the engine's float32 formula (libtorch rounds each
// product and the sum), and the residual stream of the fused add against float32 addition.
#include <algorithm>
#include <numeric>

#include "paged_test_util.h"

using namespace olora_test;

namespace {

class FusedOpsTest : public IsaTest {};

// Lengths: 1, below / at / above the vector widths, the presets' hidden sizes, and an odd large one.
const int kLengths[] = {1, 7, 8, 16, 17, 64, 100, 1024, 4099};

// RMSNorm bound: sum of n squares within gamma_n, then / n, + eps, sqrt, 1 / (one rounding each;
// sqrt halves a relative error), then x * r and * w: |y^ - y| <= (n / 2 + 8) u |y|.
double rms_tol(int n, double y) { return (n / 2.0 + 8) * kU * std::fabs(y) + 1e-37; }

void reference_rmsnorm(const float* x, const float* w, int n, float eps, double* y) {
    double ss = 0;
    for (int i = 0; i < n; ++i) ss += double(x[i]) * x[i];
    const double r = 1.0 / std::sqrt(ss / n + eps);
    for (int i = 0; i < n; ++i) y[i] = double(x[i]) * r * w[i];
}

TEST_P(FusedOpsTest, RmsNormMatchesReference) {
    for (int n : kLengths)
        for (int rows : {1, 3, 70}) {
            SCOPED_TRACE(trace() + " n=" + std::to_string(n) + " rows=" + std::to_string(rows));
            const int64_t xs = n + 3, os = n + 5;
            const std::vector<float> x = uniform(rng_, size_t(rows) * xs, -4.f, 4.f), w = uniform(rng_, n, 0.5f, 1.5f);
            std::vector<float> out(size_t(rows) * os);
            poison(out);
            const float eps = 1e-5f;
            ASSERT_EQ(olora_rmsnorm(x.data(), xs, w.data(), out.data(), os, rows, n, eps), OLORA_OK);
            std::vector<double> ref(n);
            for (int r = 0; r < rows; ++r) {
                reference_rmsnorm(x.data() + r * xs, w.data(), n, eps, ref.data());
                for (int i = 0; i < n; ++i) ASSERT_NEAR(out[r * os + i], ref[i], rms_tol(n, ref[i])) << r << " " << i;
                for (int64_t i = n; i < os; ++i) ASSERT_TRUE(std::isnan(out[r * os + i])) << "padding written";
            }
            // In place (out = x).
            std::vector<float> y = x;
            ASSERT_EQ(olora_rmsnorm(y.data(), xs, w.data(), y.data(), xs, rows, n, eps), OLORA_OK);
            for (int r = 0; r < rows; ++r)
                for (int i = 0; i < n; ++i) ASSERT_TRUE(same_bits(y[r * xs + i], out[r * os + i]));
        }
}

TEST_P(FusedOpsTest, AddRmsNormWritesResidualAndNorm) {
    for (int n : kLengths)
        for (int rows : {1, 2, 40}) {
            SCOPED_TRACE(trace() + " n=" + std::to_string(n) + " rows=" + std::to_string(rows));
            const int64_t xs = n + 1, rs = n + 2, os = n + 6;
            const std::vector<float> x = uniform(rng_, size_t(rows) * xs, -2.f, 2.f), w = uniform(rng_, n, -1.5f, 1.5f);
            std::vector<float> res = uniform(rng_, size_t(rows) * rs, -3.f, 3.f), out(size_t(rows) * os);
            const std::vector<float> res0 = res;
            poison(out);
            const float eps = 1e-6f;
            ASSERT_EQ(olora_add_rmsnorm(x.data(), xs, res.data(), rs, w.data(), out.data(), os, rows, n, eps),
                      OLORA_OK);
            std::vector<float> h(n);
            std::vector<double> ref(n);
            for (int r = 0; r < rows; ++r) {
                for (int i = 0; i < n; ++i) {
                    h[i] = x[r * xs + i] + res0[r * rs + i];  // the new residual: one float32 addition
                    ASSERT_TRUE(same_bits(res[r * rs + i], h[i])) << "residual " << r << " " << i;
                }
                for (int64_t i = n; i < rs; ++i) ASSERT_TRUE(same_bits(res[r * rs + i], res0[r * rs + i]));
                reference_rmsnorm(h.data(), w.data(), n, eps, ref.data());
                for (int i = 0; i < n; ++i) ASSERT_NEAR(out[r * os + i], ref[i], rms_tol(n, ref[i])) << r << " " << i;
                for (int64_t i = n; i < os; ++i) ASSERT_TRUE(std::isnan(out[r * os + i])) << "padding written";
            }
            // In place (out = x): the same bits.
            std::vector<float> y = x, res2 = res0;
            ASSERT_EQ(olora_add_rmsnorm(y.data(), xs, res2.data(), rs, w.data(), y.data(), xs, rows, n, eps), OLORA_OK);
            for (int r = 0; r < rows; ++r)
                for (int i = 0; i < n; ++i) ASSERT_TRUE(same_bits(y[r * xs + i], out[r * os + i]));
            // The same bits as olora_rmsnorm of the new residual: the engine's decode step defers a residual add
            // into the next norm, and its logits must equal those of an add followed by a norm.
            std::vector<float> separate(size_t(rows) * os);
            poison(separate);
            ASSERT_EQ(olora_rmsnorm(res.data(), rs, w.data(), separate.data(), os, rows, n, eps), OLORA_OK);
            for (int r = 0; r < rows; ++r)
                for (int i = 0; i < n; ++i)
                    ASSERT_TRUE(same_bits(separate[r * os + i], out[r * os + i])) << "fused vs separate " << r << " " << i;
        }
}

// cos / sin tables exactly as RotaryEmbedding.cs fills them: [positions, dim], both halves equal.
void rope_tables(int positions, int dim, double theta, std::vector<float>& cos, std::vector<float>& sin) {
    cos.assign(size_t(positions) * dim, 0.f);
    sin.assign(size_t(positions) * dim, 0.f);
    const int half = dim / 2;
    for (int p = 0; p < positions; ++p)
        for (int i = 0; i < half; ++i) {
            const double angle = p * (1.0 / std::pow(theta, 2.0 * i / dim));
            cos[p * dim + i] = cos[p * dim + i + half] = float(std::cos(angle));
            sin[p * dim + i] = sin[p * dim + i + half] = float(std::sin(angle));
        }
}

TEST_P(FusedOpsTest, RopeMatchesReferenceAndTheEnginesBits) {
    for (int dim : {2, 16, 34, 64, 128})
        for (int kvh : {0, 2}) {
            SCOPED_TRACE(trace() + " dim=" + std::to_string(dim) + " kv_heads=" + std::to_string(kvh));
            const int heads = 4, tokens = 37, maxpos = 300;
            std::vector<float> cos, sin;
            rope_tables(maxpos, dim, 10000.0, cos, sin);
            const int64_t qs = heads * dim + 3, ks = kvh * dim + 2;
            std::vector<float> q = uniform(rng_, size_t(tokens) * qs, -3.f, 3.f),
                               k = uniform(rng_, size_t(tokens) * ks, -3.f, 3.f);
            const std::vector<float> q0 = q, k0 = k;
            std::vector<int32_t> pos(tokens);
            for (int t = 0; t < tokens; ++t) pos[t] = t == 0 ? 0 : t == 1 ? maxpos - 1 : int(rng_() % maxpos);
            ASSERT_EQ(olora_rope(q.data(), qs, heads, kvh ? k.data() : nullptr, ks, kvh, dim, pos.data(), tokens,
                                 cos.data(), sin.data(), maxpos),
                      OLORA_OK);
            auto check = [&](const std::vector<float>& got, const std::vector<float>& src, int64_t stride, int nh) {
                const int half = dim / 2;
                for (int t = 0; t < tokens; ++t) {
                    const float* c = cos.data() + pos[t] * dim;
                    const float* s = sin.data() + pos[t] * dim;
                    for (int h = 0; h < nh; ++h)
                        for (int i = 0; i < half; ++i) {
                            const int64_t a = t * stride + h * dim + i, b = a + half;
                            const float x1 = src[a], x2 = src[b];
                            // float64 reference, bound 2 u (|product 1| + |product 2|) (each product and the sum
                            // rounded once).
                            const double r1 = double(x1) * c[i] - double(x2) * s[i];
                            const double r2 = double(x2) * c[i + half] + double(x1) * s[i + half];
                            ASSERT_NEAR(got[a], r1,
                                        2.01 * kU * (std::fabs(double(x1) * c[i]) + std::fabs(double(x2) * s[i])));
                            ASSERT_NEAR(
                                got[b], r2,
                                2.01 * kU *
                                    (std::fabs(double(x2) * c[i + half]) + std::fabs(double(x1) * s[i + half])));
                            // libtorch: a = x * cos; b = cat(-x2, x1) * sin; a + b, all float32.
                            const float p1 = x1 * c[i], m1 = -x2 * s[i], p2 = x2 * c[i + half], m2 = x1 * s[i + half];
                            ASSERT_TRUE(same_bits(got[a], p1 + m1)) << "t " << t << " h " << h << " i " << i;
                            ASSERT_TRUE(same_bits(got[b], p2 + m2)) << "t " << t << " h " << h << " i " << i;
                        }
                    for (int64_t e = int64_t(nh) * dim; e < stride; ++e)
                        ASSERT_TRUE(same_bits(got[t * stride + e], src[t * stride + e]));
                }
            };
            check(q, q0, qs, heads);
            check(k, k0, ks, kvh);
        }
}

// SwiGLU bound: exp within 4 u, 1 + e, g / d and * up one rounding each: |y^ - y| <= 8 u |y|, plus
// 3e-37 absolute: below g = -88.72 float32 exp(-g) overflows and g / (1 + inf) is -0 where the true
// value is at most |g| e^g ~ 2.7e-37 (libtorch gives -0 too).
double swiglu_tol(double y) { return 8 * kU * std::fabs(y) + 3e-37; }

double reference_swiglu(float g, float u) { return double(g) / (1.0 + std::exp(-double(g))) * u; }

TEST_P(FusedOpsTest, SwigluMatchesReference) {
    for (int n : kLengths)
        for (int rows : {1, 4, 20}) {
            SCOPED_TRACE(trace() + " n=" + std::to_string(n) + " rows=" + std::to_string(rows));
            const int64_t gs = 2 * n + 3, os = n + 1;
            std::vector<float> gu = uniform(rng_, size_t(rows) * gs, -10.f, 10.f), out(size_t(rows) * os);
            // Saturating and special gates: exp(-g) overflows or underflows.
            const float special[] = {88.f,  -88.f, 89.f,   -89.f, 100.f, -100.f, 1e4f,
                                     -1e4f, 3e38f, -3e38f, 0.f,   -0.f,  1e-30f, -87.5f};
            for (size_t i = 0; i < sizeof(special) / sizeof(special[0]) && i < size_t(n); ++i) {
                gu[i] = special[i];
                gu[n + i] = 0.5f;  // a finite product
            }
            const std::vector<float> gu0 = gu;
            poison(out);
            ASSERT_EQ(olora_swiglu(gu.data(), gs, out.data(), os, rows, n), OLORA_OK);
            for (int r = 0; r < rows; ++r) {
                for (int i = 0; i < n; ++i) {
                    const double ref = reference_swiglu(gu0[r * gs + i], gu0[r * gs + n + i]);
                    ASSERT_NEAR(out[r * os + i], ref, swiglu_tol(ref))
                        << "g=" << gu0[r * gs + i] << " up=" << gu0[r * gs + n + i];
                }
                ASSERT_TRUE(std::isnan(out[r * os + n])) << "padding written";
            }
            // In place into the gate half: the same bits, the up half untouched.
            ASSERT_EQ(olora_swiglu(gu.data(), gs, gu.data(), gs, rows, n), OLORA_OK);
            for (int r = 0; r < rows; ++r)
                for (int i = 0; i < n; ++i) {
                    ASSERT_TRUE(same_bits(gu[r * gs + i], out[r * os + i]));
                    ASSERT_TRUE(same_bits(gu[r * gs + n + i], gu0[r * gs + n + i]));
                }
        }
}

TEST_P(FusedOpsTest, ArgmaxFindsTheFirstMaximum) {
    for (int n : {1, 7, 8, 15, 16, 17, 1000, 50304}) {
        SCOPED_TRACE(trace() + " vocab=" + std::to_string(n));
        const int rows = 6;
        const int64_t stride = n + 9;
        std::vector<float> x = uniform(rng_, size_t(rows) * stride, -20.f, 20.f);
        std::vector<int32_t> expect(rows);
        for (int r = 0; r < rows; ++r) {
            float* row = x.data() + r * stride;
            const int a = int(rng_() % n), b = int(rng_() % n);
            switch (r) {
                case 0:
                    row[a] = 50.f;
                    break;  // one clear maximum
                case 1:
                    row[a] = 50.f;
                    row[b] = 50.f;
                    break;  // a tie: the first
                case 2:
                    row[a] = std::numeric_limits<float>::quiet_NaN();
                    row[b] = 60.f;
                    break;  // NaN wins
                case 3:
                    std::fill(row, row + n, -INFINITY);
                    break;  // all -inf: index 0
                case 4:
                    row[n - 1] = 70.f;
                    break;  // the last element
                default:
                    break;
            }
            for (int64_t e = n; e < stride; ++e) row[e] = 1e30f;  // padding is not part of the row
            int best = 0;
            for (int i = 1; i < n; ++i)
                if (std::isnan(row[best]))
                    break;
                else if (std::isnan(row[i]) || row[i] > row[best])
                    best = i;
            expect[r] = best;
        }
        std::vector<int32_t> ids(rows, -5);
        ASSERT_EQ(olora_argmax(x.data(), stride, rows, n, ids.data()), OLORA_OK);
        for (int r = 0; r < rows; ++r) EXPECT_EQ(ids[r], expect[r]) << "row " << r;
    }
}

TEST_P(FusedOpsTest, TopkRanksAsTorch) {
    // Logits on a coarse grid (many ties), with NaN and -inf in some rows; k from 1 to the vocabulary.
    for (int n : {1, 9, 16, 17, 300, 50304})
        for (int k : {1, 2, 7, 64, n}) {
            if (k > n) continue;
            SCOPED_TRACE(trace() + " vocab=" + std::to_string(n) + " k=" + std::to_string(k));
            const int rows = 4;
            const int64_t stride = n + 5;
            std::vector<float> x = uniform(rng_, size_t(rows) * stride, -6.f, 6.f);
            for (auto& v : x) v = std::round(v * 2.f) / 2.f;
            for (int i = 0; i < n; i += 37) x[stride + i] = std::numeric_limits<float>::quiet_NaN();  // row 1
            for (int i = 0; i < n; i += 3) x[2 * stride + i] = -INFINITY;                             // row 2
            std::fill(x.begin() + 3 * stride, x.begin() + 3 * stride + n, 1.5f);                      // row 3: all tied
            std::vector<int32_t> ids(size_t(rows) * k, -9);
            std::vector<float> vals(size_t(rows) * k);
            ASSERT_EQ(olora_topk(x.data(), stride, rows, n, k, ids.data(), vals.data()), OLORA_OK);
            for (int r = 0; r < rows; ++r) {
                const float* row = x.data() + r * stride;
                std::vector<int32_t> order(n);
                std::iota(order.begin(), order.end(), 0);
                std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
                    const bool an = std::isnan(row[a]), bn = std::isnan(row[b]);
                    return an != bn ? an : (!an && row[a] > row[b]);
                });
                for (int j = 0; j < k; ++j) {
                    ASSERT_EQ(ids[r * k + j], order[j]) << "row " << r << " rank " << j;
                    ASSERT_TRUE(same_bits(vals[r * k + j], row[order[j]])) << "row " << r << " rank " << j;
                }
            }
            std::vector<int32_t> ids_only(size_t(rows) * k), arg(rows);
            ASSERT_EQ(olora_topk(x.data(), stride, rows, n, k, ids_only.data(), nullptr), OLORA_OK);
            ASSERT_EQ(ids_only, ids);
            ASSERT_EQ(olora_argmax(x.data(), stride, rows, n, arg.data()), OLORA_OK);
            for (int r = 0; r < rows; ++r) ASSERT_EQ(arg[r], ids[r * k]) << "argmax and top-1 disagree, row " << r;
        }
}

TEST(FusedOpsArguments, BadArgumentsAreRefused) {
    std::vector<float> x(64, 1.f), w(16, 1.f), out(64);
    std::vector<int32_t> pos = {0, 5};
    EXPECT_EQ(olora_rmsnorm(x.data(), 15, w.data(), out.data(), 16, 2, 16, 1e-5f), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_rmsnorm(x.data(), 16, w.data(), out.data(), 16, 2, 16, -1.f), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_rmsnorm(x.data(), 16, w.data(), out.data(), 16, 2, 16, NAN), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_rmsnorm(nullptr, 16, w.data(), out.data(), 16, 0, 16, 1e-5f), OLORA_OK);  // no rows
    EXPECT_EQ(olora_add_rmsnorm(x.data(), 16, nullptr, 16, w.data(), out.data(), 16, 1, 16, 1e-5f), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_rope(x.data(), 16, 1, nullptr, 0, 0, 15, pos.data(), 2, x.data(), x.data(), 8), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_rope(x.data(), 16, 1, nullptr, 0, 0, 16, pos.data(), 2, x.data(), x.data(), 5), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_rope(x.data(), 16, 1, nullptr, 0, 1, 16, pos.data(), 2, x.data(), x.data(), 8), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_swiglu(x.data(), 31, out.data(), 16, 2, 16), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_argmax(x.data(), 16, 1, 17, pos.data()), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_topk(x.data(), 16, 1, 16, 17, pos.data(), nullptr), OLORA_E_ARGUMENT);  // k > vocab
    EXPECT_EQ(olora_topk(x.data(), 16, 1, 16, 0, pos.data(), nullptr), OLORA_E_ARGUMENT);
    for (float v : out) EXPECT_EQ(v, 0.f);
}

OLORA_INSTANTIATE_ISA(FusedOpsTest);

}  // namespace
