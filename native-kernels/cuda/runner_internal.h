// Internals shared by the CUDA runner's sources: error recording for olora_cuda_last_error.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "olora_cuda_runner.h"

namespace olora_cuda {

// Records message as the calling thread's last error and returns status.
int32_t fail(int32_t status, const std::string& message);
// OLORA_CUDA_OK, or the status for e (no device / memory / other) with its name recorded.
int32_t check_cuda(cudaError_t e, const char* what);
// check_cuda(cudaGetLastError()) after a kernel launch.
int32_t check_launch(const char* what);

}  // namespace olora_cuda

// A context: one device's stream, cuBLAS handle and tracked allocations; or, with host set
// (device OLORA_CUDA_HOST_DEVICE), host memory and no CUDA at all (the model's host emulation).
struct olora_cuda_context {
    int device = 0;
    bool host = false;
    cudaStream_t stream = nullptr;
    cublasHandle_t cublas = nullptr;
    std::mutex mutex;  // guards allocations (the forward itself runs on one thread per context)
    std::unordered_map<void*, int64_t> allocations;
    int64_t bytes = 0;
};
