#include <gtest/gtest.h>

#include <iostream>

#include "olora_kernels.h"

namespace std {
void ios_base_library_init();
}

TEST(GlibcxxCompat, IosBaseLibraryInitIsCallableAndIdempotent) {
    EXPECT_EQ(olora_ios_base_library_init_available(), 1);
    std::ios_base_library_init();
    std::ios_base_library_init();
    std::cout.flush();
    EXPECT_TRUE(std::cout.good());
}

TEST(Version, AbiVersionIsOne) { EXPECT_EQ(olora_abi_version(), 1); }
