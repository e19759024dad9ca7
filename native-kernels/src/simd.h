// Included by the SIMD sources instead of <immintrin.h>.
#pragma once
// GCC 12 reports the _mm512_undefined_* placeholders inside its own intrinsics as
// (maybe-)uninitialized when they are inlined into target("avx512*") functions; false positives.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels_internal.h"
