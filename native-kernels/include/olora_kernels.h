/* OrleansLora native kernels: a C ABI shared by the CPU and CUDA builds.
 * Every function returns 0 (or a documented non-negative value) on success and a negative
 * OLORA_E_* code on failure; none of them throws or aborts. */
#ifndef OLORA_KERNELS_H
#define OLORA_KERNELS_H

#include <stdint.h>

#if defined(OLORA_BUILDING_LIBRARY)
#define OLORA_API __attribute__((visibility("default")))
#else
#define OLORA_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

enum {
    OLORA_OK = 0,
    OLORA_E_IO = -1,        /* the file could not be read or written */
    OLORA_E_FORMAT = -2,    /* not a 64-bit little-endian ELF file, or a malformed one */
    OLORA_E_ARGUMENT = -3,  /* a null or otherwise invalid argument */
};

/* ABI version of this library; the engine refuses a library whose major differs. */
OLORA_API int32_t olora_abi_version(void);

/* Marks the version need `version_name` (e.g. "GLIBCXX_3.4.32") of the ELF file at `path`
 * weak (VER_FLG_WEAK in vna_flags), so the dynamic loader accepts a libstdc++ that lacks it.
 * With dry_run != 0 nothing is written.
 * Returns 0 when the need is absent, 1 when it is already weak, 2 when it was (or, in a dry run,
 * would be) made weak, or a negative OLORA_E_* code. Writes go to a temporary file renamed over
 * the original, so a hard link into a package cache is never modified. */
OLORA_API int32_t olora_elf_weaken_version_need(const char* path, const char* version_name, int32_t dry_run);

/* 1 when the process resolves std::ios_base_library_init() (the GLIBCXX_3.4.32 symbol that
 * libLibTorchSharp needs), from libstdc++ or from the shim in this library; calls it once. */
OLORA_API int32_t olora_ios_base_library_init_available(void);

#ifdef __cplusplus
}
#endif

#endif
