#!/usr/bin/env python3
"""Makes a VHDX written by qemu-img reproducible.

qemu-img writes random FileWriteGuid/DataWriteGuid and sequence numbers into the two headers, a
random Page83 virtual disk id into the metadata, and leaves stale log entries (with a random log
GUID) although the header's LogGuid is zero, i.e. the log is empty. Derive the GUIDs from a seed,
number the headers 1 and 2, zero the unused log and recompute the header CRC-32C."""
import struct
import sys
import uuid
from pathlib import Path

# the CRC-32C the appliance's pg-control uses too: one module, in the image's rootfs folder.
# No __pycache__ written there: the next build of the same export would copy it into the image.
sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rootfs/usr/lib/cantine-image"))
from crc32c import crc32c  # noqa: E402

path, seed = sys.argv[1], sys.argv[2]


def fail(msg):
    sys.exit(f"vhdx-pin: {path}: {msg}")


def guid(name):
    return uuid.uuid5(uuid.NAMESPACE_OID, f"{seed}/{name}").bytes_le


PAGE83 = uuid.UUID("beca12ab-b2e6-4523-93ef-c309e000c746").bytes_le
METADATA_REGION = uuid.UUID("8b7ca206-4790-4b9a-b8fe-575f050f886e").bytes_le

with open(path, "r+b") as f:
    if f.read(8) != b"vhdxfile":
        fail("not a VHDX (no vhdxfile signature)")
    headers = {}
    for off in (0x10000, 0x20000):
        f.seek(off)
        h = bytearray(f.read(4096))
        if h[:4] != b"head":
            fail(f"no header at {off:#x}")
        headers[off] = h
    seqs = {off: struct.unpack_from("<Q", h, 8)[0] for off, h in headers.items()}
    lowest = min(seqs.values())
    for off, h in headers.items():
        if h[48:64] != bytes(16):
            fail("its log is not empty (LogGuid set): zeroing it would lose writes")
        rank = seqs[off] - lowest
        struct.pack_into("<Q", h, 8, rank + 1)
        h[16:32] = guid("FileWriteGuid")
        h[32:48] = guid(f"DataWriteGuid/{rank}")
        struct.pack_into("<I", h, 4, 0)
        struct.pack_into("<I", h, 4, crc32c(h))
        f.seek(off)
        f.write(h)
    log_length, log_offset = struct.unpack_from("<IQ", headers[0x10000], 68)
    f.seek(log_offset)
    f.write(bytes(log_length))
    f.seek(0x30000)
    region = f.read(65536)
    count = struct.unpack_from("<I", region, 8)[0]
    meta_off = next((struct.unpack_from("<Q", region, 32 + 32 * i)[0] for i in range(count)
                     if region[16 + 32 * i:32 + 32 * i] == METADATA_REGION), None)
    if meta_off is None:
        fail("its region table has no metadata region")
    f.seek(meta_off)
    meta = f.read(65536)
    if meta[:8] != b"metadata":
        fail(f"no metadata table at {meta_off:#x}")
    pinned = False
    for i in range(struct.unpack_from("<H", meta, 10)[0]):
        entry = 32 + 32 * i
        if meta[entry:entry + 16] == PAGE83:
            f.seek(meta_off + struct.unpack_from("<I", meta, entry + 16)[0])
            f.write(guid("Page83"))
            pinned = True
    # without it the disk id stays random, and two builds differ
    if not pinned:
        fail("its metadata has no Page83 (virtual disk id) entry")
