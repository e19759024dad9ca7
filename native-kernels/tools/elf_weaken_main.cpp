// olora-elf-weaken FILE VERSION: marks a version need weak; run by the build on each output copy
// of libLibTorchSharp.so. Exit 0 on success (also when there is nothing to do).
#include <cstdio>

#include "olora_kernels.h"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: olora-elf-weaken FILE VERSION_NAME\n");
        return 2;
    }
    int32_t rc = olora_elf_weaken_version_need(argv[1], argv[2], 0);
    switch (rc) {
        case 0: std::printf("olora-elf-weaken: %s has no need for %s\n", argv[1], argv[2]); return 0;
        case 1: std::printf("olora-elf-weaken: %s: %s already weak\n", argv[1], argv[2]); return 0;
        case 2: std::printf("olora-elf-weaken: %s: %s made weak\n", argv[1], argv[2]); return 0;
        default:
            std::fprintf(stderr, "olora-elf-weaken: %s: %s (code %d)\n", argv[1],
                         rc == OLORA_E_IO ? "cannot read or write the file" : "not a valid ELF64 file", rc);
            return 1;
    }
}
