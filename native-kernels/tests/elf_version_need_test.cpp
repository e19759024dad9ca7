#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "olora_kernels.h"

namespace {

std::vector<char> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& path, const std::vector<char>& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// A copy of this test binary: a real ELF file that needs GLIBCXX_3.4 from libstdc++.
class ElfVersionNeed : public ::testing::Test {
protected:
    void SetUp() override {
        path_ = ::testing::TempDir() + "olora_elf_" + std::to_string(::getpid());
        original_ = read_file("/proc/self/exe");
        ASSERT_GT(original_.size(), 1000u);
        write_file(path_, original_);
    }
    void TearDown() override { std::remove(path_.c_str()); }
    std::string path_;
    std::vector<char> original_;
};

TEST_F(ElfVersionNeed, WeakensOnceAndChangesExactlyOneFlag) {
    EXPECT_EQ(olora_elf_weaken_version_need(path_.c_str(), "GLIBCXX_3.4", 1), 2);
    EXPECT_EQ(read_file(path_), original_) << "a dry run must not write";
    EXPECT_EQ(olora_elf_weaken_version_need(path_.c_str(), "GLIBCXX_3.4", 0), 2);
    EXPECT_EQ(olora_elf_weaken_version_need(path_.c_str(), "GLIBCXX_3.4", 0), 1);

    std::vector<char> patched = read_file(path_);
    ASSERT_EQ(patched.size(), original_.size());
    size_t differing = 0;
    for (size_t i = 0; i < patched.size(); ++i) differing += patched[i] != original_[i];
    EXPECT_EQ(differing, 1u) << "only the VER_FLG_WEAK bit of one vna_flags may change";
}

TEST_F(ElfVersionNeed, AbsentVersionIsANoOp) {
    EXPECT_EQ(olora_elf_weaken_version_need(path_.c_str(), "GLIBCXX_99.0", 0), 0);
    EXPECT_EQ(read_file(path_), original_);
}

TEST_F(ElfVersionNeed, RejectsBadInput) {
    EXPECT_EQ(olora_elf_weaken_version_need(nullptr, "GLIBCXX_3.4", 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_elf_weaken_version_need(path_.c_str(), "", 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_elf_weaken_version_need((path_ + ".missing").c_str(), "GLIBCXX_3.4", 0), OLORA_E_IO);

    write_file(path_, std::vector<char>{'n', 'o', 't', ' ', 'e', 'l', 'f'});
    EXPECT_EQ(olora_elf_weaken_version_need(path_.c_str(), "GLIBCXX_3.4", 0), OLORA_E_FORMAT);

    // Truncated after the section headers' start: every read must stay inside the file.
    std::vector<char> truncated(original_.begin(), original_.begin() + 4096);
    write_file(path_, truncated);
    int32_t rc = olora_elf_weaken_version_need(path_.c_str(), "GLIBCXX_3.4", 0);
    EXPECT_EQ(rc, OLORA_E_FORMAT);
}

}  // namespace
