// Edits one flag in an ELF file's version-need table (.gnu.version_r). See olora_kernels.h.
#include <elf.h>

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "olora_kernels.h"

namespace {

template <typename T>
bool read_at(const std::vector<char>& data, uint64_t offset, T* out) {
    if (offset > data.size() || data.size() - offset < sizeof(T)) return false;
    std::memcpy(out, data.data() + offset, sizeof(T));
    return true;
}

// Returns the file offset of the vna_flags field of the matching Vernaux entry, 0 when absent,
// or a negative error code.
int64_t find_need_flags(const std::vector<char>& data, const char* version_name) {
    Elf64_Ehdr eh;
    if (!read_at(data, 0, &eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
        eh.e_shentsize != sizeof(Elf64_Shdr)) {
        return OLORA_E_FORMAT;
    }
    for (uint16_t i = 0; i < eh.e_shnum; ++i) {
        Elf64_Shdr sh;
        if (!read_at(data, eh.e_shoff + uint64_t{i} * sizeof(Elf64_Shdr), &sh)) return OLORA_E_FORMAT;
        if (sh.sh_type != SHT_GNU_verneed) continue;
        Elf64_Shdr strtab;
        if (sh.sh_link >= eh.e_shnum ||
            !read_at(data, eh.e_shoff + uint64_t{sh.sh_link} * sizeof(Elf64_Shdr), &strtab)) {
            return OLORA_E_FORMAT;
        }
        uint64_t need_off = sh.sh_offset;
        // The table is a linked list; bound the walk by the section size so a corrupt file cannot loop.
        for (uint64_t guard = 0; guard < sh.sh_size; ++guard) {
            Elf64_Verneed vn;
            if (!read_at(data, need_off, &vn)) return OLORA_E_FORMAT;
            uint64_t aux_off = need_off + vn.vn_aux;
            for (uint16_t a = 0; a < vn.vn_cnt; ++a) {
                Elf64_Vernaux vna;
                if (!read_at(data, aux_off, &vna)) return OLORA_E_FORMAT;
                uint64_t name_off = strtab.sh_offset + vna.vna_name;
                if (name_off >= data.size()) return OLORA_E_FORMAT;
                const char* name = data.data() + name_off;
                size_t max_len = data.size() - name_off;
                if (strnlen(name, max_len) < max_len && std::strcmp(name, version_name) == 0) {
                    return static_cast<int64_t>(aux_off + offsetof(Elf64_Vernaux, vna_flags));
                }
                if (vna.vna_next == 0) break;
                aux_off += vna.vna_next;
            }
            if (vn.vn_next == 0) break;
            need_off += vn.vn_next;
        }
    }
    return 0;
}

}  // namespace

extern "C" OLORA_API int32_t olora_elf_weaken_version_need(const char* path, const char* version_name,
                                                           int32_t dry_run) {
    if (path == nullptr || version_name == nullptr || *version_name == '\0') return OLORA_E_ARGUMENT;
    std::vector<char> data;
    {
        std::ifstream in(path, std::ios::binary);
        if (!in) return OLORA_E_IO;
        data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        if (in.bad()) return OLORA_E_IO;
    }
    int64_t flags_off = find_need_flags(data, version_name);
    if (flags_off <= 0) return static_cast<int32_t>(flags_off);
    uint16_t flags;
    std::memcpy(&flags, data.data() + flags_off, sizeof flags);
    if (flags & VER_FLG_WEAK) return 1;
    if (dry_run) return 2;
    flags = static_cast<uint16_t>(flags | VER_FLG_WEAK);
    std::memcpy(data.data() + flags_off, &flags, sizeof flags);

    std::string tmp = std::string(path) + ".olora-tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) return OLORA_E_IO;
        out.write(data.data(), static_cast<std::streamsize>(data.size()));
        if (!out) {
            std::remove(tmp.c_str());
            return OLORA_E_IO;
        }
    }
    if (std::rename(tmp.c_str(), path) != 0) {
        std::remove(tmp.c_str());
        return OLORA_E_IO;
    }
    return 2;
}
