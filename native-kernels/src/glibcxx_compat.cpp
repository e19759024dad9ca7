// libLibTorchSharp.so (TorchSharp 0.107) was linked against GCC 13's libstdc++, which added
// std::ios_base_library_init() at GLIBCXX_3.4.32 to initialise the standard streams. Older
// libstdc++ (Debian 12: 3.4.30) initialises them through the static std::ios_base::Init object in
// <iostream>, so a definition that does exactly that is equivalent. The engine dlopens this library
// RTLD_GLOBAL before TorchSharp, and the build marks that version need weak, so the loader binds
// libLibTorchSharp's reference here. Where libstdc++ has the symbol, the loader finds that one
// first (libstdc++ is loaded before us) and this definition is never used.
//
// Built with GCC 13 or newer, libstdc++ defines it itself, and a second definition breaks the link wherever
// libstdc++.a is linked in (the CUDA image's toolchain): there only the declaration is kept.
#include <ios>

#include "olora_kernels.h"

namespace std {
#if defined(_GLIBCXX_RELEASE) && _GLIBCXX_RELEASE >= 13
void ios_base_library_init();
#else
__attribute__((visibility("default"))) void ios_base_library_init() {
    static ios_base::Init init;
    (void)init;
}
#endif
}  // namespace std

extern "C" OLORA_API int32_t olora_ios_base_library_init_available(void) {
    std::ios_base_library_init();
    return 1;
}
