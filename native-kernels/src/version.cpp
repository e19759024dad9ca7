#include "olora_kernels.h"

extern "C" OLORA_API int32_t olora_abi_version(void) { return 1; }
