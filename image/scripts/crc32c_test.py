"""Tests of the CRC-32C that pg-control (pg_control's checksum) and vhdx-pin.py (the VHDX
headers' checksum) share (rootfs/usr/lib/cantine-image/crc32c.py): the standard check value and
the iSCSI test vectors of RFC 3720, appendix B.4 (`make test` runs them)."""
import pathlib
import sys
import unittest

CANTINE_IMAGE = pathlib.Path(__file__).parents[1] / "rootfs/usr/lib/cantine-image"
# no __pycache__ in the rootfs folder: a build from the work tree would copy it into the image
sys.dont_write_bytecode = True
sys.path.insert(0, str(CANTINE_IMAGE))
from crc32c import crc32c  # noqa: E402


class Crc32c(unittest.TestCase):
    def test_check_value(self):
        self.assertEqual(crc32c(b"123456789"), 0xE3069283)

    def test_empty_input(self):
        self.assertEqual(crc32c(b""), 0)

    def test_rfc3720_vectors(self):
        self.assertEqual(crc32c(bytes(32)), 0x8A9136AA)
        self.assertEqual(crc32c(b"\xff" * 32), 0x62A8AB43)
        self.assertEqual(crc32c(bytes(range(32))), 0x46DD794E)
        self.assertEqual(crc32c(bytes(range(31, -1, -1))), 0x113FDB5C)

    def test_bytearray_and_memoryview_as_the_callers_pass_them(self):
        data = bytearray(b"123456789")
        self.assertEqual(crc32c(data), 0xE3069283)
        self.assertEqual(crc32c(memoryview(data)), 0xE3069283)
        self.assertEqual(crc32c(data[:0]), 0)

    def test_result_is_an_unsigned_32_bit_value(self):
        for data in (b"\x00", b"\xff" * 4096, bytes(range(256)) * 3):
            self.assertTrue(0 <= crc32c(data) <= 0xFFFFFFFF)


if __name__ == "__main__":
    unittest.main()
