// NF4 / int8 / float32 linear layers and the quantizers against double-precision references on
// every ISA path: M = 1..64 (fused GEMV and tiled paths), K not a multiple of 16 or 64, a final
// partial NF4 block, padded strides, accumulate on and off (overwrite outputs are NaN-poisoned;
// accumulate must keep padding columns bit-identical).
#include <algorithm>
#include <cmath>
#include <functional>

#include <sys/mman.h>
#include <unistd.h>

#include "test_util.h"

using namespace olora_test;

namespace {

const float kCodeBook[16] = {-1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
                             -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
                             0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
                             0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};

struct Shape {
    int m, n, k;
};
const Shape kShapes[] = {{1, 1, 1}, {1, 64, 64},   {1, 33, 4096}, {2, 19, 1000}, {3, 17, 1000}, {4, 7, 4097},
                         {8, 40, 128}, {9, 40, 192}, {17, 13, 320}, {64, 37, 256}, {5, 3, 63},
                         // Every M path (NF4: 1-2 GEMV, 3-8 block-shared small-M kernel, 9+ tiles; int8:
                         // 1-8 GEMV) with odd N and K both whole NF4 blocks and not; K = 1024 and 4096
                         // walk several K chunks of the small-M kernel, the last one partial for M = 8.
                         {1, 35, 1024}, {2, 33, 192}, {3, 19, 4096}, {3, 21, 100}, {3, 11, 320}, {6, 13, 192}, {4, 17, 1024}, {5, 23, 2048},
                         {6, 3, 64}, {7, 21, 128}, {7, 9, 65}, {8, 37, 1024}, {8, 3, 4097}, {16, 9, 192},
                         {16, 5, 127}, {31, 5, 320}, {32, 11, 1024}, {32, 7, 999}, {64, 7, 128},
                         // AMX tiles (NF4 from M = 6, int8 from 9): one block of 16 rows or a pair, pairs
                         // plus a single block, N not a multiple of the 32-row groups, prefill-sized M.
                         {6, 33, 128}, {9, 33, 64}, {48, 40, 256}, {100, 70, 512},
                         // The bfloat16 dots without AMX: x in two chunks of rows (128 + 72 at K = 4096).
                         {200, 9, 4096},
                         // Enough rows that the fused kernels take ranges of more than 16 rows (for_row_tasks:
                         // chunks of 48 and 256 with two threads, and the halves taken over from the other
                         // thread), the last range partial, R-row groups with a remainder, and the small-M
                         // kernels' 16-row pieces with a partial last piece.
                         {1, 1000, 128}, {2, 4133, 64}, {3, 1000, 128}, {8, 4133, 64}};

// Relative tolerance: float32 paths sum exactly rounded products; the bfloat16 paths round x and the dequantized W
// to bfloat16 first (each off by at most 2^-9, so each product by < 2^-8): under OLORA_COMPUTE_BF16 (and INT8 where
// it acts as BF16) the AMX tiles on the AMX ISA, and without AMX the bfloat16 dots from 9 rows of x when K is whole
// blocks (NF4 64, int8 32; quant_bf16dot_avx512.cpp). OLORA_COMPUTE_F32 must stay float32-exact on every ISA.
constexpr double kBf16Rel = 4e-3, kF32Rel = 2e-6;
double rel_tolerance(int isa, int compute, const Shape& s, int k_multiple) {
    if (compute == OLORA_COMPUTE_F32) return kF32Rel;
    if (isa == OLORA_ISA_AMX) return kBf16Rel;
    return isa == OLORA_ISA_AVX512 && s.m >= 9 && s.k % k_multiple == 0 ? kBf16Rel : kF32Rel;
}
// NF4 under OLORA_COMPUTE_BF16 also rounds x and the code book to bfloat16 in the AVX-512 GEMV (M <= 8,
// K % 64 == 0), on every AVX-512 machine: the same bound.
double nf4_rel_tolerance(int isa, int compute, const Shape& s) {
    const bool bf16_gemv = isa >= OLORA_ISA_AVX512 && compute == OLORA_COMPUTE_BF16 && s.m <= 8 && s.k % 64 == 0;
    return bf16_gemv ? kBf16Rel : rel_tolerance(isa, compute, s, 64);
}

// Whether a and b hold the same bits everywhere.
bool same_all(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (!same_bits(a[i], b[i])) return false;
    return true;
}

// The NF4 bfloat16 GEMV's two routes (olora_set_bf16_gemv), each in force for the scope of one of these; AVX-512
// machines default to one of them, and both must hold on every machine.
class Bf16GemvRoute {
public:
    explicit Bf16GemvRoute(int route) { EXPECT_EQ(olora_set_bf16_gemv(route), OLORA_OK); }
    ~Bf16GemvRoute() { olora_set_bf16_gemv(OLORA_BF16_GEMV_AUTO); }
    Bf16GemvRoute(const Bf16GemvRoute&) = delete;
    Bf16GemvRoute& operator=(const Bf16GemvRoute&) = delete;
};
constexpr int kBf16GemvRoutes[] = {OLORA_BF16_GEMV_DOT, OLORA_BF16_GEMV_FMA};
std::string route_name(int route) { return route == OLORA_BF16_GEMV_DOT ? "route=dot" : "route=fma"; }

// Random NF4 weights of numel values: every code byte, absmax in [0.01, 2).
struct Nf4Weights {
    std::vector<uint8_t> codes;
    std::vector<float> absmax;
};
Nf4Weights random_nf4(std::mt19937& g, int64_t numel) {
    Nf4Weights w{std::vector<uint8_t>((numel + 1) / 2), {}};
    std::uniform_int_distribution<int> byte(0, 255);
    for (auto& c : w.codes) c = static_cast<uint8_t>(byte(g));
    w.absmax = uniform(g, (numel + 63) / 64, 0.01f, 2.f);
    return w;
}

// y = x W^T for NF4 weights, packed rows, NaN-poisoned first.
std::vector<float> nf4_outputs(const Shape& s, const std::vector<uint8_t>& codes, const std::vector<float>& absmax,
                               const std::vector<float>& x, int compute) {
    std::vector<float> y(size_t(s.m) * s.n);
    poison(y);
    EXPECT_EQ(olora_nf4_linear_ex(x.data(), s.k, y.data(), s.n, s.m, s.n, s.k, codes.data(), absmax.data(), 0, compute),
              OLORA_OK);
    return y;
}

// Checks y (stride ldy, m x n valid + padding) against ref computed from w (double [n, k]).
void run_linear(std::mt19937& g, const Shape& s, const std::vector<double>& w, bool accumulate, double rel,
                const std::function<int32_t(const float*, int64_t, float*, int64_t)>& call) {
    SCOPED_TRACE("m=" + std::to_string(s.m) + " n=" + std::to_string(s.n) + " k=" + std::to_string(s.k) +
                 " acc=" + std::to_string(accumulate));
    const int64_t ldx = s.k + 3, ldy = s.n + 2;
    const std::vector<float> x = uniform(g, s.m * ldx);
    std::vector<float> y = uniform(g, s.m * ldy);
    const std::vector<float> y0 = y;
    if (!accumulate)
        for (int i = 0; i < s.m; ++i)
            for (int j = 0; j < s.n; ++j) y[i * ldy + j] = std::numeric_limits<float>::quiet_NaN();
    ASSERT_EQ(call(x.data(), ldx, y.data(), ldy), OLORA_OK);
    int bad = 0;
    for (int i = 0; i < s.m; ++i)
        for (int j = 0; j < ldy; ++j) {
            const float got = y[i * ldy + j];
            if (j >= s.n) {
                if (!same_bits(got, y0[i * ldy + j]) && ++bad < 5) ADD_FAILURE() << "padding changed at " << i << "," << j;
                continue;
            }
            double ref = accumulate ? y0[i * ldy + j] : 0.0, bound = std::fabs(ref);
            for (int kk = 0; kk < s.k; ++kk) {
                const double t = double(x[i * ldx + kk]) * w[size_t(j) * s.k + kk];
                ref += t;
                bound += std::fabs(t);
            }
            if (!(std::fabs(got - ref) <= rel * bound + 1e-6) && ++bad < 5)
                ADD_FAILURE() << "y[" << i << "," << j << "]=" << got << " ref " << ref;
        }
    EXPECT_EQ(bad, 0);
}

// Two threads, as on the CI machine, whatever this machine has: the row counts of the long shapes
// below are chosen so that for_row_tasks gives ranges of more than 16 rows at that count (with 64+
// threads they would fall back to 16-row chunks and test nothing new).
class LinearTest : public IsaTest {
protected:
    void SetUp() override {
        IsaTest::SetUp();
        ASSERT_EQ(olora_set_num_threads(2), OLORA_OK);
    }
    void TearDown() override {
        olora_set_num_threads(0);
        IsaTest::TearDown();
    }
};

TEST_P(LinearTest, Nf4) {
    SCOPED_TRACE(trace());
    for (const Shape& s : kShapes) {
        const int64_t numel = int64_t(s.n) * s.k;
        const auto [codes, absmax] = random_nf4(rng_, numel);
        std::vector<double> w(numel);
        for (int64_t gi = 0; gi < numel; ++gi) {
            const int c = (gi & 1) ? (codes[gi / 2] & 0xF) : (codes[gi / 2] >> 4);
            w[gi] = double(kCodeBook[c]) * absmax[gi / 64];
        }
        // F32, then BF16 by either route of the GEMV.
        for (int mode : {0, 1, 2}) {
            const int compute = mode == 0 ? OLORA_COMPUTE_F32 : OLORA_COMPUTE_BF16;
            const Bf16GemvRoute route(mode == 2 ? OLORA_BF16_GEMV_FMA : OLORA_BF16_GEMV_DOT);
            SCOPED_TRACE(mode == 0 ? "f32" : route_name(olora_get_bf16_gemv()));
            for (bool acc : {false, true})
                run_linear(rng_, s, w, acc, nf4_rel_tolerance(GetParam(), compute, s),
                           [&](const float* x, int64_t ldx, float* y, int64_t ldy) {
                               return olora_nf4_linear_ex(x, ldx, y, ldy, s.m, s.n, s.k, codes.data(), absmax.data(),
                                                          acc, compute);
                           });
        }
    }
}

// OLORA_COMPUTE_BF16 where the bfloat16-dot GEMV applies (AVX-512, M <= 8, K % 64 == 0), and the bfloat16 dots
// from 9 rows without AMX: an x they cannot carry (a nonzero |x| below 2^-100, subnormals included, which
// vdpbf16ps would flush to zero, or a finite one at the float maximum, which would round to inf) sends the call
// to the float32 kernels, whose result is the F32 mode's, bit for bit. Ordinary x does not (the result differs
// from F32's in some bit). (The AMX tiles, from 6 rows, round whatever x holds.)
TEST_P(LinearTest, Nf4Bf16DotRangeFallsBackToFloat32) {
    SCOPED_TRACE(trace());
    const Shape shapes[] = {{1, 35, 1024}, {2, 19, 128}, {2, 19, 192}, {5, 9, 192}, {9, 33, 128}, {20, 17, 256}};
    for (const Shape& s : shapes) {
        SCOPED_TRACE("m=" + std::to_string(s.m) + " n=" + std::to_string(s.n) + " k=" + std::to_string(s.k));
        if (s.m >= 6 && GetParam() == OLORA_ISA_AMX) continue;
        const int64_t numel = int64_t(s.n) * s.k;
        const auto [codes, absmax] = random_nf4(rng_, numel);
        auto run = [&](const std::vector<float>& x, int compute) { return nf4_outputs(s, codes, absmax, x, compute); };
        const std::vector<float> plain = uniform(rng_, size_t(s.m) * s.k);
        const bool bf16_gemv = GetParam() >= OLORA_ISA_AVX512;
        for (int r : kBf16GemvRoutes) {
            const Bf16GemvRoute route(r);
            SCOPED_TRACE(route_name(r));
            EXPECT_EQ(same_all(run(plain, OLORA_COMPUTE_BF16), run(plain, OLORA_COMPUTE_F32)), !bf16_gemv)
                << "ordinary x: the bfloat16 dots should run exactly where AVX-512 is";
            for (float odd : {1e-39f, 1e-35f, -3.4e38f}) {
                SCOPED_TRACE("x holds " + std::to_string(odd));
                std::vector<float> x = plain;
                x[size_t(s.m - 1) * s.k + s.k / 2] = odd;  // one value, in the last row
                EXPECT_TRUE(same_all(run(x, OLORA_COMPUTE_BF16), run(x, OLORA_COMPUTE_F32)));
            }
        }
    }
}

// The two routes of the NF4 bfloat16 GEMV are two kernels (their sums differ in some bit) for 1-8 rows where AVX-512
// is; from 9 rows, and without AVX-512, the route changes nothing. Each is checked against float64 by the Nf4 test.
TEST_P(LinearTest, Nf4Bf16GemvRoutesAreTwoKernels) {
    SCOPED_TRACE(trace());
    for (const Shape& s : {Shape{1, 301, 1024}, Shape{2, 77, 192}, Shape{3, 45, 320}, Shape{7, 45, 320},
                           Shape{1, 33, 192}, Shape{9, 45, 320}}) {
        SCOPED_TRACE("m=" + std::to_string(s.m) + " n=" + std::to_string(s.n) + " k=" + std::to_string(s.k));
        const auto [codes, absmax] = random_nf4(rng_, int64_t(s.n) * s.k);
        const std::vector<float> x = uniform(rng_, size_t(s.m) * s.k);
        auto run = [&](int r) {
            const Bf16GemvRoute route(r);
            return nf4_outputs(s, codes, absmax, x, OLORA_COMPUTE_BF16);
        };
        const bool two_kernels = GetParam() >= OLORA_ISA_AVX512 && s.m <= 8;
        const std::vector<float> dot = run(OLORA_BF16_GEMV_DOT), fma = run(OLORA_BF16_GEMV_FMA);
        EXPECT_EQ(same_all(dot, fma), !two_kernels);
        // Neither route fell back to the float32 kernels on this ordinary x.
        const std::vector<float> f32 = nf4_outputs(s, codes, absmax, x, OLORA_COMPUTE_F32);
        const bool bf16 = GetParam() >= OLORA_ISA_AVX512;
        EXPECT_EQ(same_all(dot, f32), !bf16);
        EXPECT_EQ(same_all(fma, f32), !bf16);
    }
}

// NF4 weights, x (row stride k) and y (row stride n) that each end where a mapping ends, a page that faults after
// them: no GEMV reads or writes past any of them (the FMA route reads code bytes at offsets 1-3 from its 64-byte
// steps, and pads a lone last block of x with zeros). A read past one kills the test binary; the outputs must be
// those of ordinary buffers, bit for bit (which the Nf4 test checks against float64).
TEST_P(LinearTest, Nf4ReadsNothingPastItsArrays) {
    SCOPED_TRACE(trace());
    const long page = sysconf(_SC_PAGESIZE);
    struct Guarded {  // bytes copied to the end of a read-write region that a PROT_NONE page follows
        void* base = MAP_FAILED;
        size_t len = 0;
        char* data = nullptr;
        Guarded(const void* src, size_t bytes, long page) {
            const size_t body = (bytes + page - 1) / page * page;
            len = body + page;
            base = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (base == MAP_FAILED) return;
            char* end = static_cast<char*>(base) + body;
            if (mprotect(end, page, PROT_NONE) != 0) return;
            std::memcpy(end - bytes, src, bytes);
            data = end - bytes;
        }
        ~Guarded() {
            if (base != MAP_FAILED) munmap(base, len);
        }
        Guarded(const Guarded&) = delete;
        Guarded& operator=(const Guarded&) = delete;
    };
    for (const Shape& s : {Shape{1, 5, 64}, Shape{1, 3, 128}, Shape{1, 7, 1024}, Shape{1, 9, 192}, Shape{2, 5, 192},
                           Shape{2, 4, 128}, Shape{3, 7, 320}, Shape{4, 3, 320}, Shape{6, 5, 192}, Shape{8, 5, 128},
                           Shape{9, 3, 128}}) {
        SCOPED_TRACE("m=" + std::to_string(s.m) + " n=" + std::to_string(s.n) + " k=" + std::to_string(s.k));
        const auto [codes, absmax] = random_nf4(rng_, int64_t(s.n) * s.k);
        const std::vector<float> x = uniform(rng_, size_t(s.m) * s.k);
        const Guarded gc(codes.data(), codes.size(), page), ga(absmax.data(), absmax.size() * sizeof(float), page),
            gx(x.data(), x.size() * sizeof(float), page);
        for (int r : kBf16GemvRoutes)
            for (int compute : {OLORA_COMPUTE_F32, OLORA_COMPUTE_BF16, OLORA_COMPUTE_INT8}) {
                const Bf16GemvRoute route(r);
                SCOPED_TRACE(route_name(r) + " compute=" + std::to_string(compute));
                const std::vector<float> want = nf4_outputs(s, codes, absmax, x, compute);
                std::vector<float> got(want.size());
                poison(got);
                const Guarded gy(got.data(), got.size() * sizeof(float), page);
                ASSERT_TRUE(gc.data && ga.data && gx.data && gy.data);
                float* y = reinterpret_cast<float*>(gy.data);
                ASSERT_EQ(olora_nf4_linear_ex(reinterpret_cast<const float*>(gx.data), s.k, y, s.n, s.m, s.n, s.k,
                                              reinterpret_cast<const uint8_t*>(gc.data),
                                              reinterpret_cast<const float*>(ga.data), 0, compute),
                          OLORA_OK);
                std::memcpy(got.data(), y, got.size() * sizeof(float));
                EXPECT_TRUE(same_all(got, want));
            }
    }
}

// int8 weights from 9 rows without AMX take the bfloat16 dots under OLORA_COMPUTE_BF16 (and INT8): an x they cannot
// carry falls back to the float32 path, the F32 mode's result bit for bit; ordinary x does not.
TEST_P(LinearTest, Int8Bf16DotRangeFallsBackToFloat32) {
    SCOPED_TRACE(trace());
    if (GetParam() == OLORA_ISA_AMX) GTEST_SKIP() << "the AMX tiles serve these rows";
    for (const Shape& s : {Shape{9, 33, 128}, Shape{20, 17, 96}}) {
        SCOPED_TRACE("m=" + std::to_string(s.m) + " n=" + std::to_string(s.n) + " k=" + std::to_string(s.k));
        std::vector<int8_t> q(size_t(s.n) * s.k);
        std::uniform_int_distribution<int> val(-127, 127);
        for (auto& v : q) v = static_cast<int8_t>(val(rng_));
        const std::vector<float> scales = uniform(rng_, s.n, 0.001f, 0.05f);
        auto run = [&](const std::vector<float>& x, int compute) {
            std::vector<float> y(size_t(s.m) * s.n);
            poison(y);
            EXPECT_EQ(olora_int8_linear_ex(x.data(), s.k, y.data(), s.n, s.m, s.n, s.k, q.data(), scales.data(), 0,
                                           compute),
                      OLORA_OK);
            return y;
        };
        const std::vector<float> plain = uniform(rng_, size_t(s.m) * s.k);
        EXPECT_EQ(same_all(run(plain, OLORA_COMPUTE_BF16), run(plain, OLORA_COMPUTE_F32)), GetParam() != OLORA_ISA_AVX512)
            << "ordinary x: the bfloat16 dots should run exactly where AVX-512 is";
        for (float odd : {1e-39f, -3.4e38f}) {
            SCOPED_TRACE("x holds " + std::to_string(odd));
            std::vector<float> x = plain;
            x[size_t(s.m - 1) * s.k + s.k / 3] = odd;
            EXPECT_TRUE(same_all(run(x, OLORA_COMPUTE_BF16), run(x, OLORA_COMPUTE_F32)));
        }
    }
}

// OLORA_COMPUTE_INT8. Where the int8-dot kernel applies (AVX-512, M <= 8, K % 64 == 0) the result is
// checked twice: against a float64 emulation of its arithmetic (x rounded per 64-value block to
// round(x * (127 / max|x|)), codes to round(127 code)), allowing only the float32 rounding of its
// sums: per output, (blocks / 2 + 8) * 2^-24 * the sum of |int32 lane value * scale| over the
// kernel's 8 lanes per block (a lane holds 8 elements' offset products, lane 0 the -128 sum(xq)
// correction); and against the exact float64 product within the error the roundings can make,
// sum over blocks of absmax * (sum |x| + 64 max|x|) / 254. Elsewhere it must behave as
// OLORA_COMPUTE_BF16.
TEST_P(LinearTest, Nf4Int8Dot) {
    SCOPED_TRACE(trace());
    const bool vnni = GetParam() >= OLORA_ISA_AVX512;
    const Shape shapes[] = {{1, 1, 128}, {1, 35, 1024}, {2, 33, 128}, {1, 6, 384}, {2, 70, 4096}, {1, 17, 2816},
                            {1, 9, 192}, {1, 11, 64}, {2, 13, 320}, {2, 5, 1000}, {3, 21, 1024},
                            {4, 19, 320}, {5, 7, 1024}, {6, 9, 128}, {8, 13, 192}, {9, 5, 128},
                            {1, 1000, 128}, {2, 4133, 64}, {5, 1000, 128}, {8, 4133, 64}};  // tasks of more than 16 rows
    for (const Shape& s : shapes) {
        SCOPED_TRACE("m=" + std::to_string(s.m) + " n=" + std::to_string(s.n) + " k=" + std::to_string(s.k));
        const int64_t numel = int64_t(s.n) * s.k;
        const auto [codes, absmax] = random_nf4(rng_, numel);
        auto code_at = [&](int64_t gi) { return (gi & 1) ? (codes[gi / 2] & 0xF) : (codes[gi / 2] >> 4); };
        const bool int8_path = vnni && s.m <= 8 && s.k % 64 == 0;
        if (!int8_path) {
            std::vector<double> w(numel);
            for (int64_t gi = 0; gi < numel; ++gi) w[gi] = double(kCodeBook[code_at(gi)]) * absmax[gi / 64];
            for (bool acc : {false, true})
                run_linear(rng_, s, w, acc, rel_tolerance(GetParam(), OLORA_COMPUTE_BF16, s, 64),
                           [&](const float* x, int64_t ldx, float* y, int64_t ldy) {
                               return olora_nf4_linear_ex(x, ldx, y, ldy, s.m, s.n, s.k, codes.data(), absmax.data(),
                                                          acc, OLORA_COMPUTE_INT8);
                           });
            continue;
        }
        const int64_t ldx = s.k + 5, ldy = s.n + 3;
        std::vector<float> x = uniform(rng_, s.m * ldx);
        // One all-zero block and one block of tiny values (scale far below the others).
        for (int j = 0; j < 64; ++j) x[j] = 0.f;
        if (s.k >= 256)
            for (int j = 128; j < 192; ++j) x[j] *= 1e-6f;
        for (bool acc : {false, true}) {
            SCOPED_TRACE(acc ? "accumulate" : "overwrite");
            std::vector<float> y = uniform(rng_, s.m * ldy);
            const std::vector<float> y0 = y;
            if (!acc) poison(y);
            const std::vector<float> y_before = y;
            ASSERT_EQ(olora_nf4_linear_ex(x.data(), ldx, y.data(), ldy, s.m, s.n, s.k, codes.data(), absmax.data(), acc,
                                          OLORA_COMPUTE_INT8),
                      OLORA_OK);
            int bad = 0;
            for (int i = 0; i < s.m; ++i) {
                const float* xr = x.data() + i * ldx;
                for (int j = 0; j < ldy; ++j) {
                    const float got = y[i * ldy + j];
                    if (j >= s.n) {
                        if (!same_bits(got, y_before[i * ldy + j]) && ++bad < 5) ADD_FAILURE() << "padding changed";
                        continue;
                    }
                    const double base = acc ? y0[i * ldy + j] : 0.0;
                    double exact = base, emul = base, bound = 0, lanes = 0;
                    for (int b = 0; b < s.k / 64; ++b) {
                        const float* xb = xr + b * 64;
                        float mx = 0.f;
                        for (int t = 0; t < 64; ++t) mx = std::max(mx, std::fabs(xb[t]));
                        const float inv = mx > 0.f ? 127.f / mx : 0.f;
                        const double a = absmax[(int64_t(j) * s.k) / 64 + b];
                        const double scale = a * (double(mx) / (127.0 * 127.0));
                        double dot = 0, sum_abs = 0, sum_xq = 0, lane[8] = {};
                        for (int t = 0; t < 64; ++t) {
                            const int c = code_at(int64_t(j) * s.k + b * 64 + t);
                            const double xq = std::nearbyint(xb[t] * inv);
                            const double c8 = std::nearbyint(127.0 * kCodeBook[c]);
                            dot += c8 * xq;
                            lane[t / 8] += (c8 + 128) * xq;
                            sum_xq += xq;
                            exact += double(xb[t]) * kCodeBook[c] * a;
                            sum_abs += std::fabs(xb[t]);
                        }
                        lane[0] -= 128 * sum_xq;
                        emul += scale * dot;
                        for (double l : lane) lanes += std::fabs(l) * scale;
                        bound += a * (sum_abs + 64.0 * mx) / 254.0;
                    }
                    const double rounding = (s.k / 128 + 9) * std::ldexp(1.0, -24) * (lanes + std::fabs(base)) + 1e-30;
                    if (!(std::fabs(got - emul) <= rounding) && ++bad < 5)
                        ADD_FAILURE() << "y[" << i << "," << j << "]=" << got << " emulated " << emul << " within " << rounding;
                    if (!(std::fabs(got - exact) <= bound * 1.001 + rounding) && ++bad < 5)
                        ADD_FAILURE() << "y[" << i << "," << j << "]=" << got << " exact " << exact << " bound " << bound;
                }
            }
            EXPECT_EQ(bad, 0);
        }
        // A non-finite x takes the other paths, which carry it into every output of its row (NaN in the
        // first row, +inf in the last: NaN or inf there); the other rows stay finite.
        std::vector<float> xn = x;
        xn[s.k / 2] = std::numeric_limits<float>::quiet_NaN();
        if (s.m > 1) xn[(s.m - 1) * ldx + 1] = std::numeric_limits<float>::infinity();
        std::vector<float> y(s.m * ldy, 0.f);
        ASSERT_EQ(olora_nf4_linear_ex(xn.data(), ldx, y.data(), ldy, s.m, s.n, s.k, codes.data(), absmax.data(), 0,
                                      OLORA_COMPUTE_INT8),
                  OLORA_OK);
        for (int i = 0; i < s.m; ++i)
            for (int j = 0; j < s.n; ++j) {
                const float v = y[i * ldy + j];
                if (i == 0) EXPECT_TRUE(std::isnan(v)) << "y[0," << j << "]";
                else if (i == s.m - 1) EXPECT_FALSE(std::isfinite(v)) << "y[" << i << "," << j << "]";
                else EXPECT_TRUE(std::isfinite(v)) << "y[" << i << "," << j << "]";
            }
        // A block of x too small to scale by 127 / max|x| (1e-38, below ~3.7e-37) takes the float32
        // kernels instead of rounding to zero: the products come out, not 0.
        if (s.m == 1) {
            std::vector<float> xt(ldx, 0.f);
            for (int t = 0; t < s.k; ++t) xt[t] = 1e-38f * (1 + t % 3);
            std::vector<float> yt(ldy, 0.f);
            ASSERT_EQ(olora_nf4_linear_ex(xt.data(), ldx, yt.data(), ldy, 1, s.n, s.k, codes.data(), absmax.data(), 0,
                                          OLORA_COMPUTE_INT8),
                      OLORA_OK);
            for (int j = 0; j < s.n; ++j) {
                double ref = 0, mag = 0;
                for (int t = 0; t < s.k; ++t) {
                    const double p = double(xt[t]) * kCodeBook[code_at(int64_t(j) * s.k + t)] * absmax[(int64_t(j) * s.k + t) / 64];
                    ref += p;
                    mag += std::fabs(p);
                }
                EXPECT_LE(std::fabs(yt[j] - ref), 1e-5 * mag + 1e-44) << "tiny x, y[0," << j << "]";
            }
        }
    }
}

TEST_P(LinearTest, Int8) {
    SCOPED_TRACE(trace());
    for (const Shape& s : kShapes) {
        std::vector<int8_t> q(size_t(s.n) * s.k);
        std::uniform_int_distribution<int> val(-127, 127);
        for (auto& v : q) v = static_cast<int8_t>(val(rng_));
        const std::vector<float> scales = uniform(rng_, s.n, 0.001f, 0.05f);
        std::vector<double> w(q.size());
        for (int j = 0; j < s.n; ++j)
            for (int kk = 0; kk < s.k; ++kk) w[size_t(j) * s.k + kk] = double(q[size_t(j) * s.k + kk]) * scales[j];
        // OLORA_COMPUTE_INT8 only changes NF4's GEMV: int8 weights take the BF16 paths.
        for (int compute : {OLORA_COMPUTE_F32, OLORA_COMPUTE_BF16, OLORA_COMPUTE_INT8})
            for (bool acc : {false, true})
                run_linear(rng_, s, w, acc, rel_tolerance(GetParam(), compute, s, 32),
                           [&](const float* x, int64_t ldx, float* y, int64_t ldy) {
                               return olora_int8_linear_ex(x, ldx, y, ldy, s.m, s.n, s.k, q.data(), scales.data(), acc,
                                                           compute);
                           });
    }
}

TEST_P(LinearTest, Float32) {
    SCOPED_TRACE(trace());
    for (const Shape& s : kShapes) {
        const int64_t ldw = s.k + 1;
        const std::vector<float> wf = uniform(rng_, s.n * ldw);
        std::vector<double> w(size_t(s.n) * s.k);
        for (int j = 0; j < s.n; ++j)
            for (int kk = 0; kk < s.k; ++kk) w[size_t(j) * s.k + kk] = wf[j * ldw + kk];
        for (bool acc : {false, true})
            run_linear(rng_, s, w, acc, 2e-6, [&](const float* x, int64_t ldx, float* y, int64_t ldy) {
                return olora_gemm_f32(x, ldx, wf.data(), ldw, y, ldy, s.m, s.n, s.k, acc);
            });
    }
}

OLORA_INSTANTIATE_ISA(LinearTest);

TEST(Nf4Quantize, NibbleOrderAndCodeBook) {
    float cb[16];
    ASSERT_EQ(olora_nf4_code_book(cb), OLORA_OK);
    for (int i = 0; i < 16; ++i) EXPECT_EQ(cb[i], kCodeBook[i]);
    std::vector<float> w(64, 0.f);
    w[0] = 2.f;   // code 15 (1.0 * absmax), first element -> high nibble
    w[1] = -2.f;  // code 0
    w[2] = 0.f;   // code 7
    w[3] = 1.f;   // 0.5 -> nearest is 0.4407 (12)
    std::vector<uint8_t> codes(32);
    float absmax = 0;
    ASSERT_EQ(olora_nf4_quantize(w.data(), 64, codes.data(), &absmax), OLORA_OK);
    EXPECT_EQ(absmax, 2.f);
    EXPECT_EQ(codes[0], 0xF0);
    EXPECT_EQ(codes[1], 0x7C);
    // Odd numel: last low nibble is code 7; absmax of an all-zero block is 0.
    float z[3] = {0, 0, 0}, am = -1;
    uint8_t c2[2];
    ASSERT_EQ(olora_nf4_quantize(z, 3, c2, &am), OLORA_OK);
    EXPECT_EQ(am, 0.f);
    EXPECT_EQ(c2[0], 0x77);
    EXPECT_EQ(c2[1], 0x77);
}

TEST(Nf4Quantize, NearestCodeRoundTrip) {
    std::mt19937 g(fresh_seed());
    const int64_t numel = 64 * 37 + 21;  // final partial block
    const std::vector<float> w = uniform(g, numel, -3.f, 3.f);
    std::vector<uint8_t> codes((numel + 1) / 2);
    std::vector<float> absmax((numel + 63) / 64), back(numel);
    ASSERT_EQ(olora_nf4_quantize(w.data(), numel, codes.data(), absmax.data()), OLORA_OK);
    ASSERT_EQ(olora_nf4_dequantize(codes.data(), absmax.data(), numel, back.data()), OLORA_OK);
    for (int64_t b = 0; b < int64_t(absmax.size()); ++b) {
        float am = 0;
        for (int64_t i = b * 64; i < std::min(numel, b * 64 + 64); ++i) am = std::max(am, std::fabs(w[i]));
        ASSERT_EQ(absmax[b], am);
    }
    for (int64_t i = 0; i < numel; ++i) {
        const int c = (i & 1) ? (codes[i / 2] & 0xF) : (codes[i / 2] >> 4);
        const double am = absmax[i / 64], v = w[i] / am;
        for (int j = 0; j < 16; ++j) ASSERT_LE(std::fabs(v - kCodeBook[c]), std::fabs(v - kCodeBook[j]) + 1e-6) << i;
        ASSERT_EQ(back[i], kCodeBook[c] * absmax[i / 64]);
    }
}

TEST(Int8Quantize, ScalesAndRounding) {
    std::mt19937 g(fresh_seed());
    const int n = 7, k = 1001;
    std::vector<float> w = uniform(g, n * k, -2.f, 2.f);
    std::fill(w.begin() + 3 * k, w.begin() + 4 * k, 0.f);  // an all-zero row
    std::vector<int8_t> q(n * k);
    std::vector<float> scales(n), back(n * k);
    ASSERT_EQ(olora_int8_quantize(w.data(), n, k, q.data(), scales.data()), OLORA_OK);
    ASSERT_EQ(olora_int8_dequantize(q.data(), scales.data(), n, k, back.data()), OLORA_OK);
    for (int r = 0; r < n; ++r) {
        float mx = 0;
        for (int j = 0; j < k; ++j) mx = std::max(mx, std::fabs(w[r * k + j]));
        EXPECT_EQ(scales[r], mx / 127.f);
        for (int j = 0; j < k; ++j) {
            const int expect = scales[r] > 0 ? int(std::lround(w[r * k + j] / scales[r])) : 0;
            ASSERT_EQ(q[r * k + j], std::max(-127, std::min(127, expect)));
            ASSERT_EQ(back[r * k + j], q[r * k + j] * scales[r]);
        }
    }
}

TEST(QuantArguments, BadArgumentsAreRefused) {
    float x[8] = {}, y[8] = {}, s[2] = {1, 1}, w[8] = {};
    uint8_t codes[4] = {};
    int8_t q[8] = {};
    EXPECT_EQ(olora_nf4_linear(x, 4, y, 2, 1, 2, 4, codes, s, 0), OLORA_OK);
    EXPECT_EQ(olora_nf4_linear(x, 4, y, 2, 0, 2, 4, nullptr, nullptr, 0), OLORA_OK);  // m == 0: nothing to do
    EXPECT_EQ(olora_nf4_linear(nullptr, 4, y, 2, 1, 2, 4, codes, s, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_nf4_linear(x, 3, y, 2, 1, 2, 4, codes, s, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_nf4_linear(x, 4, y, 1, 1, 2, 4, codes, s, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_nf4_linear(x, 4, y, 2, -1, 2, 4, codes, s, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_nf4_linear(x, 4, y, 2, 1, 0, 4, codes, s, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_nf4_linear(x, 4, y, 2, 1, 2, 4, nullptr, s, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_nf4_linear(x, 4, y, 2, 1, 2, 4, codes, nullptr, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_int8_linear(x, 4, y, 2, 1, 2, 4, q, s, 0), OLORA_OK);
    EXPECT_EQ(olora_int8_linear(x, 4, y, 2, 1, 2, 0, q, s, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_int8_linear(x, 4, y, 2, 1, 2, 4, q, nullptr, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_int8_linear(x, 4, nullptr, 2, 1, 2, 4, q, s, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_nf4_linear_ex(x, 4, y, 2, 1, 2, 4, codes, s, 0, 3), OLORA_E_ARGUMENT);  // unknown compute mode
    EXPECT_EQ(olora_int8_linear_ex(x, 4, y, 2, 1, 2, 4, q, s, 0, -1), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_gemm_f32(x, 4, w, 3, y, 2, 1, 2, 4, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_gemm_f32(x, 4, nullptr, 4, y, 2, 1, 2, 4, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_nf4_quantize(w, 0, codes, s), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_nf4_quantize(nullptr, 8, codes, s), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_nf4_dequantize(codes, nullptr, 8, w), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_int8_quantize(w, 2, 0, q, s), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_int8_dequantize(q, s, 2, 4, nullptr), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_nf4_code_book(nullptr), OLORA_E_ARGUMENT);
    float nan_w[2] = {1.f, std::numeric_limits<float>::quiet_NaN()};
    EXPECT_EQ(olora_nf4_quantize(nan_w, 2, codes, s), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_int8_quantize(nan_w, 1, 2, q, s), OLORA_E_ARGUMENT);
}

}  // namespace
