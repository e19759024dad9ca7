// Compares the CUDA kernels with the CPU library (olora_kernels) on random data and prints one
// line per check; exit status 0 only when every check passes. Run on a GPU machine:
//   cmake -S native-kernels -B build -DCMAKE_CUDA_ARCHITECTURES=90 && cmake --build build --target cuda_check
//   ./build/cuda_check
// UNBUILT / UNVERIFIED until that has been done: see BENCHMARKS.md.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "olora_cuda.h"
#include "olora_kernels.h"

namespace {

std::mt19937 rng(12345);

std::vector<float> uniform(size_t n, float lo, float hi) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

bool ok_cuda(cudaError_t e, const char* what) {
    if (e != cudaSuccess) std::printf("CUDA error in %s: %s\n", what, cudaGetErrorString(e));
    return e == cudaSuccess;
}

template <typename T>
T* to_device(const std::vector<T>& h) {
    T* d = nullptr;
    if (!ok_cuda(cudaMalloc(&d, h.size() * sizeof(T) + 1), "cudaMalloc")) return nullptr;
    ok_cuda(cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy H2D");
    return d;
}

template <typename T>
std::vector<T> to_host(const T* d, size_t n) {
    std::vector<T> h(n);
    ok_cuda(cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy D2H");
    return h;
}

bool compare(const char* name, const std::vector<float>& gpu, const std::vector<float>& cpu, double tol) {
    double worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < cpu.size(); ++i) {
        const double d = std::fabs(double(gpu[i]) - cpu[i]) / (1.0 + std::fabs(double(cpu[i])));
        if (!(d <= worst)) {
            worst = d;
            at = i;
        }
    }
    const bool pass = worst <= tol;
    std::printf("%-40s %s  max rel err %.3g at %zu (tol %.1g)\n", name, pass ? "PASS" : "FAIL", worst, at, tol);
    return pass;
}

bool check_sgmv(int in, int out, int max_rank, const std::vector<int>& seg_rows, const std::vector<int>& seg_slots,
                const std::vector<int>& ranks) {
    const int nseg = int(seg_rows.size()), nslots = int(ranks.size());
    std::vector<int32_t> starts(nseg + 1, 0), slots(seg_slots.begin(), seg_slots.end()), r(ranks.begin(), ranks.end());
    for (int i = 0; i < nseg; ++i) starts[i + 1] = starts[i] + seg_rows[i];
    const int rows = starts[nseg];
    const auto x = uniform(size_t(rows) * in, -1, 1);
    const auto a = uniform(size_t(nslots) * max_rank * in, -0.1f, 0.1f);
    const auto b = uniform(size_t(nslots) * max_rank * out, -0.1f, 0.1f);
    const auto y0 = uniform(size_t(rows) * out, -1, 1);
    std::vector<float> scales(nslots, 0.5f);

    std::vector<float> v_cpu(size_t(rows) * max_rank, 0.f), y_cpu = y0;
    olora_sgmv_shrink(OLORA_DTYPE_F32, x.data(), in, v_cpu.data(), max_rank, starts.data(), slots.data(), nseg,
                      a.data(), nslots, max_rank, in, r.data());
    olora_sgmv_expand(OLORA_DTYPE_F32, v_cpu.data(), max_rank, y_cpu.data(), out, starts.data(), slots.data(), nseg,
                      b.data(), nslots, max_rank, out, r.data(), scales.data());

    float *dx = to_device(x), *da = to_device(a), *db = to_device(b), *dy = to_device(y0), *ds = to_device(scales);
    float* dv = to_device(std::vector<float>(size_t(rows) * max_rank, 0.f));
    int32_t *dst = to_device(starts), *dsl = to_device(slots), *dr = to_device(r);
    bool pass = olora_cuda_sgmv_shrink_f32(dx, in, dv, max_rank, dst, dsl, nseg, da, max_rank, in, dr, 0) == 0;
    pass &= olora_cuda_sgmv_expand_f32(dv, max_rank, dy, out, dst, dsl, nseg, db, max_rank, out, dr, ds, 0) == 0;
    pass &= ok_cuda(cudaDeviceSynchronize(), "sgmv");
    pass &= compare("sgmv shrink (v)", to_host(dv, v_cpu.size()), v_cpu, 1e-4);
    pass &= compare("sgmv expand (y)", to_host(dy, y_cpu.size()), y_cpu, 1e-4);
    for (void* p : {(void*)dx, (void*)da, (void*)db, (void*)dy, (void*)ds, (void*)dv, (void*)dst, (void*)dsl, (void*)dr})
        cudaFree(p);
    return pass;
}

bool check_quant(int m, int n, int k) {
    const int64_t numel = int64_t(n) * k;
    const auto w = uniform(numel, -1, 1);
    const auto x = uniform(size_t(m) * k, -1, 1);
    std::vector<uint8_t> codes((numel + 1) / 2);
    std::vector<float> absmax((numel + 63) / 64), scales(n);
    std::vector<int8_t> q(numel);
    olora_nf4_quantize(w.data(), numel, codes.data(), absmax.data());
    olora_int8_quantize(w.data(), n, k, q.data(), scales.data());
    std::vector<float> y_nf4(size_t(m) * n), y_i8(size_t(m) * n);
    olora_nf4_linear(x.data(), k, y_nf4.data(), n, m, n, k, codes.data(), absmax.data(), 0);
    olora_int8_linear(x.data(), k, y_i8.data(), n, m, n, k, q.data(), scales.data(), 0);

    float *dx = to_device(x), *dam = to_device(absmax), *dsc = to_device(scales);
    uint8_t* dc = to_device(codes);
    int8_t* dq = to_device(q);
    float* dy = to_device(std::vector<float>(size_t(m) * n, NAN));  // poisoned: every output must be written
    char name[96];
    bool pass = olora_cuda_nf4_linear(dx, k, dy, n, m, n, k, dc, dam, 0, 0) == 0;
    pass &= ok_cuda(cudaDeviceSynchronize(), "nf4");
    std::snprintf(name, sizeof name, "nf4 linear m=%d n=%d k=%d", m, n, k);
    pass &= compare(name, to_host(dy, y_nf4.size()), y_nf4, 1e-4);
    pass &= olora_cuda_int8_linear(dx, k, dy, n, m, n, k, dq, dsc, 0, 0) == 0;
    pass &= ok_cuda(cudaDeviceSynchronize(), "int8");
    std::snprintf(name, sizeof name, "int8 linear m=%d n=%d k=%d", m, n, k);
    pass &= compare(name, to_host(dy, y_i8.size()), y_i8, 1e-4);
    for (void* p : {(void*)dx, (void*)dam, (void*)dsc, (void*)dc, (void*)dq, (void*)dy}) cudaFree(p);
    return pass;
}

}  // namespace

int main() {
    int dev = 0;
    cudaDeviceProp prop{};
    if (!ok_cuda(cudaGetDevice(&dev), "cudaGetDevice") || !ok_cuda(cudaGetDeviceProperties(&prop, dev), "props"))
        return 2;
    std::printf("device %d: %s (sm_%d%d)\n", dev, prop.name, prop.major, prop.minor);
    bool pass = true;
    {
        std::vector<int> rows, slots;
        for (int i = 0; i < 32; ++i) {
            rows.push_back(i % 7 == 3 ? 0 : 1 + i % 3);
            slots.push_back(i % 9 == 8 ? -1 : i % 4);
        }
        pass &= check_sgmv(4096, 4096, 128, rows, slots, {16, 3, 128, 1});
        pass &= check_sgmv(1000, 1029, 17, {5, 0, 2}, {0, -1, 1}, {17, 8});
    }
    pass &= check_quant(1, 4096, 4096);
    pass &= check_quant(8, 1000, 4096);
    pass &= check_quant(3, 17, 1000);
    std::printf("cuda_check: %s\n", pass ? "all checks passed" : "some checks failed");
    return pass ? 0 : 1;
}
