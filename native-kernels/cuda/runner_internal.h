// Internals shared by the CUDA runner's sources: error recording for olora_cuda_last_error.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "olora_cuda_runner.h"

namespace olora_cuda {

// Records message as the calling thread's last error and returns status.
int32_t fail(int32_t status, const std::string& message);
// OLORA_CUDA_OK, or the status for e (no device / memory / other) with its name recorded.
int32_t check_cuda(cudaError_t e, const char* what);
// check_cuda(cudaGetLastError()) after a kernel launch.
int32_t check_launch(const char* what);

}  // namespace olora_cuda
