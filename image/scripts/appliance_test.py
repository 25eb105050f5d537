"""Tests of the appliance's first-boot module (rootfs/usr/lib/cantine-image/appliance.py) on
its checks that need no machine: administration networks and the TLS certificate pair a seed
or the wizard gives (`make test` runs them)."""
import pathlib
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "rootfs/usr/lib/cantine-image"))
import appliance  # noqa: E402


def self_signed(d, name):
    key, cert = pathlib.Path(d, f"{name}.key"), pathlib.Path(d, f"{name}.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "2", "-subj", f"/CN={name}", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert.read_text(), key.read_text()


class CertificatePair(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.a = self_signed(cls.dir.name, "a")
        cls.b = self_signed(cls.dir.name, "b")

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def test_matching_pair_is_accepted(self):
        appliance.check_certificate_pair(*self.a)

    def test_key_of_another_certificate_is_refused(self):
        with self.assertRaisesRegex(ValueError, "does not belong"):
            appliance.check_certificate_pair(self.a[0], self.b[1])

    def test_swapped_or_garbled_pem_is_refused(self):
        with self.assertRaisesRegex(ValueError, "not a PEM certificate"):
            appliance.check_certificate_pair(self.a[1], self.a[1])
        with self.assertRaisesRegex(ValueError, "not a PEM private key"):
            appliance.check_certificate_pair(self.a[0], self.a[0][:60])

    def test_key_with_a_passphrase_is_refused_without_prompting(self):
        encrypted = subprocess.run(["openssl", "pkey", "-aes256", "-passout", "pass:secret"],
                                   input=self.a[1], capture_output=True, text=True, check=True).stdout
        with self.assertRaisesRegex(ValueError, "without a passphrase"):
            appliance.check_certificate_pair(self.a[0], encrypted)


class Networks(unittest.TestCase):
    def test_list_or_string_split_by_family(self):
        self.assertEqual(appliance.parse_networks("192.168.10.0/24, 2001:db8::/64 10.0.0.5/8"),
                         (["192.168.10.0/24", "10.0.0.0/8"], ["2001:db8::/64"]))
        self.assertEqual(appliance.parse_networks(["10.1.0.0/16"]), (["10.1.0.0/16"], []))

    def test_malformed_network_is_refused(self):
        with self.assertRaises(ValueError):
            appliance.parse_networks("192.168.300.0/24")


if __name__ == "__main__":
    unittest.main()
