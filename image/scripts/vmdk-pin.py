#!/usr/bin/env python3
"""qemu-img writes a random CID into a VMDK's text descriptor: replace it with a fixed one.
The descriptor has no checksum, so an in-place edit of the same length is enough."""
import re
import struct
import sys


def fail(msg):
    sys.exit(f"vmdk-pin: {path}: {msg}")


path, cid = sys.argv[1], sys.argv[2].encode()
if not re.fullmatch(rb"[0-9a-f]{8}", cid):
    fail(f"CID {cid.decode()!r} must be 8 lowercase hex digits")
with open(path, "r+b") as f:
    header = f.read(512)
    magic, _ver, _flags, _cap, _grain, desc_off, desc_size = struct.unpack_from("<4sIIQQQQ", header)
    if magic != b"KDMV" or not desc_off or not desc_size:
        fail("not a sparse VMDK with an embedded descriptor")
    f.seek(desc_off * 512)
    desc = f.read(desc_size * 512)
    new, n = re.subn(rb"\nCID=[0-9a-fA-F]{8}\n", b"\nCID=" + cid + b"\n", desc, count=1)
    if n != 1:
        fail("its descriptor has no CID line")
    if len(new) != len(desc):  # cannot happen with a same-length replacement; would shift data
        fail("the edited descriptor changed length")
    f.seek(desc_off * 512)
    f.write(new)
