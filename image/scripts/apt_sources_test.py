"""Tests of apt-sources.py on apt configurations as Debian's installer, its cloud images and a
host with third-party repositories write them (`make test` runs them)."""
import pathlib
import subprocess
import sys
import tempfile
import textwrap
import unittest

SCRIPT = pathlib.Path(__file__).with_name("apt-sources.py")
KEY = "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"


def run(files):
    with tempfile.TemporaryDirectory() as root:
        for name, text in files.items():
            path = pathlib.Path(root, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        # the tests look at the exit status themselves: a refusal is a result too
        return subprocess.run([sys.executable, SCRIPT, root], capture_output=True, text=True, check=False)


class AptSources(unittest.TestCase):
    def test_one_line_format_keeps_debian_and_drops_the_rest(self):
        r = run({"etc/apt/sources.list": """\
            # written by the installer
            deb http://mirror.example/debian/ bookworm main contrib
            deb-src http://mirror.example/debian/ bookworm main
            deb [arch=amd64 signed-by=/etc/apt/keyrings/vendor.gpg] https://vendor.example/debian bookworm stable
            deb http://security.example/debian-security bookworm-security main
            deb http://mirror.example/debian bookworm-backports main
            #deb http://mirror.example/debian bookworm-updates main
            """})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout,
                         "Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\n"
                         "Components: main contrib\n" + KEY + "\n"
                         "Types: deb\nURIs: http://security.example/debian-security\n"
                         "Suites: bookworm-security\nComponents: main\n" + KEY)

    def test_deb822_drops_backports_from_a_shared_stanza_and_resolves_mirror_lists(self):
        r = run({"etc/apt/mirrors/debian.list": "# mirrors\nhttp://mirror.example/debian\n",
                 "etc/apt/sources.list.d/debian.sources": """\
            Types: deb deb-src
            URIs: mirror+file:///etc/apt/mirrors/debian.list
            Suites: bookworm bookworm-updates bookworm-backports
            Components: main
            Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

            Types: deb
            URIs: http://off.example/debian
            Suites: bookworm
            Components: main
            Enabled: no

            Types: deb
            URIs: https://vendor.example/node
            Suites: nodistro
            Components: main
            Signed-By: /usr/share/keyrings/vendor.gpg
            """})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "Types: deb\nURIs: http://mirror.example/debian\n"
                         "Suites: bookworm bookworm-updates\nComponents: main\n" + KEY)

    def test_no_debian_source_is_an_error(self):
        r = run({"etc/apt/sources.list.d/vendor.list":
                 "deb [signed-by=/etc/apt/keyrings/vendor.gpg] https://vendor.example/debian bookworm stable\n"})
        self.assertEqual(r.returncode, 1)
        self.assertIn("IMAGE_APT_SOURCES", r.stderr)
        self.assertEqual(r.stdout, "")


if __name__ == "__main__":
    unittest.main()
