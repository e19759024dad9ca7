#!/usr/bin/env python3
"""Writes normalization.bin, the tables UnicodeNormalizer reads, from the Unicode Character Database.

    apt-get install unicode-data     # Debian's UCD: /usr/share/unicode
    python3 generate_normalization_data.py [UCD_DIR]

The file is raw-deflated; inside, little-endian:
  "ONRM" u8 format(1) u8 n, n ASCII bytes of the Unicode version
  u32 count, then count x (u32 code point, u8 canonical combining class)          non-zero classes
  u32 count, then count x (u32 code point, u8 flags, u8 n, n x u32 code points)   one-level decompositions
     flags: 1 = compatibility mapping, 2 = Full_Composition_Exclusion
Hangul syllables are algorithmic and not listed.
"""
import os
import re
import struct
import sys
import zlib

ucd = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/unicode"
here = os.path.dirname(os.path.abspath(__file__))

version = None
with open(os.path.join(ucd, "DerivedNormalizationProps.txt"), encoding="utf-8") as f:
    first = f.readline()
    m = re.search(r"-(\d+\.\d+\.\d+)\.txt", first)
    version = m.group(1)

excluded = set()
with open(os.path.join(ucd, "DerivedNormalizationProps.txt"), encoding="utf-8") as f:
    for line in f:
        line = line.split("#")[0].strip()
        if not line:
            continue
        fields = [x.strip() for x in line.split(";")]
        if fields[1] != "Full_Composition_Exclusion":
            continue
        if ".." in fields[0]:
            lo, hi = (int(x, 16) for x in fields[0].split(".."))
            excluded.update(range(lo, hi + 1))
        else:
            excluded.add(int(fields[0], 16))

ccc = []
decompositions = []
with open(os.path.join(ucd, "UnicodeData.txt"), encoding="utf-8") as f:
    for line in f:
        fields = line.split(";")
        cp = int(fields[0], 16)
        if int(fields[3]) != 0:
            ccc.append((cp, int(fields[3])))
        mapping = fields[5].strip()
        if not mapping:
            continue
        compat = mapping.startswith("<")
        if compat:
            mapping = mapping[mapping.index(">") + 1:].strip()
        targets = [int(x, 16) for x in mapping.split()]
        flags = (1 if compat else 0) | (2 if cp in excluded else 0)
        decompositions.append((cp, flags, targets))

out = bytearray(b"ONRM")
out += struct.pack("<BB", 1, len(version)) + version.encode("ascii")
out += struct.pack("<I", len(ccc))
for cp, c in ccc:
    out += struct.pack("<IB", cp, c)
out += struct.pack("<I", len(decompositions))
for cp, flags, targets in decompositions:
    out += struct.pack("<IBB", cp, flags, len(targets))
    out += b"".join(struct.pack("<I", t) for t in targets)

compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
data = compressor.compress(bytes(out)) + compressor.flush()
with open(os.path.join(here, "normalization.bin"), "wb") as f:
    f.write(data)
print(f"Unicode {version}: {len(ccc)} combining classes, {len(decompositions)} decompositions, {len(out)} bytes, {len(data)} deflated", file=sys.stderr)
