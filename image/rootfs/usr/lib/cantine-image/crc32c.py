"""CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as PostgreSQL's pg_control and the
VHDX headers use it. One home for both users: `pg-control` (on the appliance, and at build time
on the build host) and `scripts/vhdx-pin.py` (build host), which import it from this folder.
Tested by `scripts/crc32c_test.py`."""

TABLE = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    TABLE.append(c)


def crc32c(data):
    """CRC-32C of bytes-like data, as an unsigned 32-bit int."""
    c = 0xFFFFFFFF
    for b in data:
        c = TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF
