#!/usr/bin/env python3
"""qemu-img writes a random CID into a VMDK's text descriptor: replace it with a fixed one.
The descriptor has no checksum, so an in-place edit of the same length is enough."""
import re
import struct
import sys

path, cid = sys.argv[1], sys.argv[2].encode()
assert re.fullmatch(rb"[0-9a-f]{8}", cid), "CID must be 8 hex digits"
with open(path, "r+b") as f:
    header = f.read(512)
    magic, _ver, _flags, _cap, _grain, desc_off, desc_size = struct.unpack_from("<4sIIQQQQ", header)
    assert magic == b"KDMV" and desc_off and desc_size, "not a sparse VMDK with a descriptor"
    f.seek(desc_off * 512)
    desc = f.read(desc_size * 512)
    new, n = re.subn(rb"\nCID=[0-9a-fA-F]{8}\n", b"\nCID=" + cid + b"\n", desc, count=1)
    assert n == 1 and len(new) == len(desc)
    f.seek(desc_off * 512)
    f.write(new)
