// Devices, contexts and errors of the CUDA runner's C ABI (olora_cuda_runner.h).
// Compiled in CI (CUDA 11.8, no GPU: the C# tests exercise the no-device paths there); run on an H200 with
// CUDA 13.0 by scripts/gpu-check.sh on 2026-12-04 (docs/GPU.md).
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>

#include "runner_internal.h"

namespace olora_cuda {

namespace {
thread_local std::string g_last_error;
}  // namespace

int32_t fail(int32_t status, const std::string& message) {
    g_last_error = message;
    return status;
}

int32_t check_cuda(cudaError_t e, const char* what) {
    if (e == cudaSuccess) return OLORA_CUDA_OK;
    // Clear it: a non-sticky error (an out-of-memory cudaMalloc) must not be blamed on the next launch, whose
    // check_launch reads cudaGetLastError. Sticky errors stay whatever this does.
    (void)cudaGetLastError();
    const int32_t status = (e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver)
                               ? OLORA_CUDA_E_NO_DEVICE
                               : (e == cudaErrorMemoryAllocation ? OLORA_CUDA_E_MEMORY : OLORA_CUDA_E_CUDA);
    return fail(status, std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

int32_t check_launch(const char* what) { return check_cuda(cudaGetLastError(), what); }

}  // namespace olora_cuda

using namespace olora_cuda;


namespace {

constexpr int32_t kAbiVersion = 2;

// Makes the context's device current on the calling thread (each .NET thread-pool thread may call).
int32_t enter(olora_cuda_context* ctx) {
    if (!ctx) return fail(OLORA_CUDA_E_ARGUMENT, "context is null");
    if (ctx->host) return OLORA_CUDA_OK;
    return check_cuda(cudaSetDevice(ctx->device), "cudaSetDevice");
}

// Host emulation: the machine's physical and available memory stand for the device's.
void host_memory(int64_t* free_bytes, int64_t* total_bytes) {
    const long page = sysconf(_SC_PAGESIZE);
    *total_bytes = int64_t(sysconf(_SC_PHYS_PAGES)) * page;
    *free_bytes = int64_t(sysconf(_SC_AVPHYS_PAGES)) * page;
}

}  // namespace

extern "C" OLORA_CUDA_API int32_t olora_cuda_abi_version(void) { return kAbiVersion; }

extern "C" OLORA_CUDA_API int32_t olora_cuda_last_error(char* buf, int32_t len) {
    if (!buf || len < 1) return OLORA_CUDA_E_ARGUMENT;
    std::snprintf(buf, size_t(len), "%s", g_last_error.c_str());
    return OLORA_CUDA_OK;
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_device_count(int32_t* count) {
    if (!count) return fail(OLORA_CUDA_E_ARGUMENT, "count is null");
    *count = 0;
    int n = 0;
    const int32_t rc = check_cuda(cudaGetDeviceCount(&n), "cudaGetDeviceCount");
    if (rc != OLORA_CUDA_OK) return rc == OLORA_CUDA_E_CUDA ? OLORA_CUDA_E_NO_DEVICE : rc;
    if (n == 0) return fail(OLORA_CUDA_E_NO_DEVICE, "no CUDA device");
    *count = n;
    return OLORA_CUDA_OK;
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_device_info(int32_t device, char* name, int32_t name_len,
                                                         int32_t* sm_major, int32_t* sm_minor, int64_t* total_bytes,
                                                         int64_t* free_bytes) {
    if (!name || name_len < 1 || !sm_major || !sm_minor || !total_bytes || !free_bytes)
        return fail(OLORA_CUDA_E_ARGUMENT, "null output argument");
    int32_t count = 0;
    if (const int32_t rc = olora_cuda_device_count(&count); rc != OLORA_CUDA_OK) return rc;
    if (device < 0 || device >= count)
        return fail(OLORA_CUDA_E_ARGUMENT, "device " + std::to_string(device) + " out of range (" +
                                               std::to_string(count) + " devices)");
    cudaDeviceProp prop;
    if (const int32_t rc = check_cuda(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties"); rc != 0)
        return rc;
    std::snprintf(name, size_t(name_len), "%s", prop.name);
    *sm_major = prop.major;
    *sm_minor = prop.minor;
    if (const int32_t rc = check_cuda(cudaSetDevice(device), "cudaSetDevice"); rc != 0) return rc;
    size_t free_b = 0, total_b = 0;
    if (const int32_t rc = check_cuda(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo"); rc != 0) return rc;
    *total_bytes = int64_t(total_b);
    *free_bytes = int64_t(free_b);
    return OLORA_CUDA_OK;
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_context_create(int32_t device, olora_cuda_context** out) {
    if (!out) return fail(OLORA_CUDA_E_ARGUMENT, "out is null");
    *out = nullptr;
    if (device == OLORA_CUDA_HOST_DEVICE) {
        auto* ctx = new olora_cuda_context();
        ctx->device = device;
        ctx->host = true;
        *out = ctx;
        return OLORA_CUDA_OK;
    }
    int32_t count = 0;
    if (const int32_t rc = olora_cuda_device_count(&count); rc != OLORA_CUDA_OK) return rc;
    if (device < 0 || device >= count)
        return fail(OLORA_CUDA_E_ARGUMENT, "device " + std::to_string(device) + " out of range (" +
                                               std::to_string(count) + " devices)");
    if (const int32_t rc = check_cuda(cudaSetDevice(device), "cudaSetDevice"); rc != 0) return rc;
    auto* ctx = new olora_cuda_context();
    ctx->device = device;
    if (const int32_t rc = check_cuda(cudaStreamCreateWithFlags(&ctx->stream, cudaStreamNonBlocking),
                                      "cudaStreamCreate");
        rc != 0) {
        delete ctx;
        return rc;
    }
    const cublasStatus_t st = cublasCreate(&ctx->cublas);
    if (st != CUBLAS_STATUS_SUCCESS || cublasSetStream(ctx->cublas, ctx->stream) != CUBLAS_STATUS_SUCCESS) {
        if (ctx->cublas) cublasDestroy(ctx->cublas);
        cudaStreamDestroy(ctx->stream);
        delete ctx;
        return fail(OLORA_CUDA_E_CUDA, "cublasCreate failed: status " + std::to_string(int(st)));
    }
    *out = ctx;
    return OLORA_CUDA_OK;
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_context_destroy(olora_cuda_context* ctx) {
    if (!ctx) return OLORA_CUDA_OK;
    if (ctx->host) {
        for (auto& a : ctx->allocations) std::free(a.first);
        delete ctx;
        return OLORA_CUDA_OK;
    }
    cudaSetDevice(ctx->device);
    cudaStreamSynchronize(ctx->stream);
    for (auto& a : ctx->allocations) cudaFree(a.first);
    cublasDestroy(ctx->cublas);
    cudaStreamDestroy(ctx->stream);
    delete ctx;
    return OLORA_CUDA_OK;
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_context_memory(olora_cuda_context* ctx, int64_t* context_bytes,
                                                            int64_t* free_bytes, int64_t* total_bytes) {
    if (!context_bytes || !free_bytes || !total_bytes) return fail(OLORA_CUDA_E_ARGUMENT, "null output argument");
    if (const int32_t rc = enter(ctx); rc != 0) return rc;
    if (ctx->host) {
        host_memory(free_bytes, total_bytes);
        std::lock_guard<std::mutex> lock(ctx->mutex);
        *context_bytes = ctx->bytes;
        return OLORA_CUDA_OK;
    }
    size_t free_b = 0, total_b = 0;
    if (const int32_t rc = check_cuda(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo"); rc != 0) return rc;
    std::lock_guard<std::mutex> lock(ctx->mutex);
    *context_bytes = ctx->bytes;
    *free_bytes = int64_t(free_b);
    *total_bytes = int64_t(total_b);
    return OLORA_CUDA_OK;
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_alloc(olora_cuda_context* ctx, int64_t bytes, void** out) {
    if (!out || bytes < 1) return fail(OLORA_CUDA_E_ARGUMENT, "bytes < 1 or out is null");
    *out = nullptr;
    if (const int32_t rc = enter(ctx); rc != 0) return rc;
    void* p = nullptr;
    if (ctx->host) {
        // 64-byte aligned like cudaMalloc's 256 (the CPU kernels' vector loads want alignment).
        p = std::aligned_alloc(64, size_t((bytes + 63) / 64 * 64));
        if (!p) return fail(OLORA_CUDA_E_MEMORY, "host emulation: out of memory (" + std::to_string(bytes) + " bytes)");
    } else if (const int32_t rc = check_cuda(cudaMalloc(&p, size_t(bytes)), "cudaMalloc"); rc != 0) {
        return rc;
    }
    std::lock_guard<std::mutex> lock(ctx->mutex);
    ctx->allocations[p] = bytes;
    ctx->bytes += bytes;
    *out = p;
    return OLORA_CUDA_OK;
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_free(olora_cuda_context* ctx, void* ptr) {
    if (const int32_t rc = enter(ctx); rc != 0) return rc;
    std::lock_guard<std::mutex> lock(ctx->mutex);
    const auto it = ctx->allocations.find(ptr);
    if (it == ctx->allocations.end()) return fail(OLORA_CUDA_E_ARGUMENT, "not an allocation of this context");
    ctx->bytes -= it->second;
    ctx->allocations.erase(it);
    if (ctx->host) {
        std::free(ptr);
        return OLORA_CUDA_OK;
    }
    return check_cuda(cudaFree(ptr), "cudaFree");
}

static int32_t copy(olora_cuda_context* ctx, void* dst, const void* src, int64_t bytes, cudaMemcpyKind kind) {
    if (!dst || !src || bytes < 0) return fail(OLORA_CUDA_E_ARGUMENT, "null pointer or negative size");
    if (const int32_t rc = enter(ctx); rc != 0) return rc;
    if (bytes == 0) return OLORA_CUDA_OK;
    if (ctx->host) {
        std::memmove(dst, src, size_t(bytes));
        return OLORA_CUDA_OK;
    }
    if (const int32_t rc = check_cuda(cudaMemcpyAsync(dst, src, size_t(bytes), kind, ctx->stream), "cudaMemcpyAsync");
        rc != 0)
        return rc;
    return check_cuda(cudaStreamSynchronize(ctx->stream), "cudaStreamSynchronize");
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_upload(olora_cuda_context* ctx, void* dst, const void* src,
                                                    int64_t bytes) {
    return copy(ctx, dst, src, bytes, cudaMemcpyHostToDevice);
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_download(olora_cuda_context* ctx, void* dst, const void* src,
                                                      int64_t bytes) {
    return copy(ctx, dst, src, bytes, cudaMemcpyDeviceToHost);
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_synchronize(olora_cuda_context* ctx) {
    if (const int32_t rc = enter(ctx); rc != 0) return rc;
    if (ctx->host) return OLORA_CUDA_OK;
    return check_cuda(cudaStreamSynchronize(ctx->stream), "cudaStreamSynchronize");
}

extern "C" OLORA_CUDA_API void* olora_cuda_context_stream(olora_cuda_context* ctx) {
    return ctx ? static_cast<void*>(ctx->stream) : nullptr;
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_gemm_bf16(olora_cuda_context* ctx, const uint16_t* x, int32_t m,
                                                       int32_t k, const uint16_t* w, int32_t n, float* y,
                                                       int32_t accumulate) {
    if (!x || !w || !y || m < 1 || n < 1 || k < 1) return fail(OLORA_CUDA_E_ARGUMENT, "gemm: bad arguments");
    if (const int32_t rc = enter(ctx); rc != 0) return rc;
    if (ctx->host) return fail(OLORA_CUDA_E_ARGUMENT, "gemm: a host emulation context has no cuBLAS (use the model API)");
    // Row-major y[m, n] = x[m, k] · w[n, k]ᵀ is column-major yᵀ[n, m] = w[n, k] · xᵀ: A = w
    // (column-major [k, n], transposed), B = x (column-major [k, m]).
    const float alpha = 1.f, beta = accumulate ? 1.f : 0.f;
    const cublasStatus_t st =
        cublasGemmEx(ctx->cublas, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, &alpha, w, CUDA_R_16BF, k, x, CUDA_R_16BF, k,
                     &beta, y, CUDA_R_32F, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    if (st != CUBLAS_STATUS_SUCCESS) return fail(OLORA_CUDA_E_CUDA, "cublasGemmEx: status " + std::to_string(int(st)));
    return OLORA_CUDA_OK;
}
