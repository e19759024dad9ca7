#!/usr/bin/env bash
# The fused NF4 GEMVs prefetch the next group of short W rows (simd.h, Nf4RowGroup::prefetch). GCC once
# dropped every such prefetch without a word (an out-of-line helper of nothing but prefetches counts as
# pure), which costs speed and fails no numerical test; this checks the built library still has them.
# Usage: check_gemv_prefetch.sh LIBRARY
set -euo pipefail
lib=$1
command -v objdump >/dev/null || { echo "objdump (binutils) is needed" >&2; exit 1; }
# prefetcht0 count per function, demangled.
counts=$(objdump -d --no-show-raw-insn "$lib" | c++filt |
  awk '/^[0-9a-f]+ <.*>:$/ { fn = $0 } /prefetcht0/ { n[fn]++ } END { for (f in n) print n[f] "\t" f }')
fail=0
for kernel in 'gemv_pair_group<1, 4>(olora::Nf4Bf16Block' 'gemv_group<1, 4>(float const*, long' 'gemv_group<1, 4>(olora::Nf4QxPair' 'gemv_block<1, 4>(float const*, int, unsigned char const*'; do
  if ! grep -qF "$kernel" <<<"$counts"; then
    echo "no prefetcht0 in $kernel...) of $lib" >&2
    fail=1
  fi
done
[ $fail -eq 0 ] && echo "the NF4 GEMVs prefetch"
exit $fail
