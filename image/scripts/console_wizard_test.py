"""Test of the boot test's console-wizard.py against a fake serial console: the kernel writes
its own lines into the middle of the wizard's prompts (as bursts of "No irq handler for vector"
did under emulation in CI), and the script must still answer every prompt (`make test` runs it)."""
import pathlib
import socket
import subprocess
import sys
import tempfile
import threading
import unittest

SCRIPT = pathlib.Path(__file__).with_name("console-wizard.py")
NOISE = "[   64.482395] __common_interrupt: 1.35 No irq handler for vector\r\n"


def noisy(prompt):
    """The prompt cut in two by a kernel line, as the serial port shows it."""
    half = len(prompt) // 2
    return [prompt[:half], NOISE, prompt[half:]]


# What the console prints after each answer, starting with the Enter that opens the wizard.
DIALOG = [
    noisy("host name [cantine]: "),
    noisy("public URL [https://cantine.example]: "),
    ["admin networks [none]: "],
    noisy("SSH public key (optional): "),
    ["password for 'admin': "],
    ["\r\npassword too short: at least 12 characters\r\n", NOISE, "password for 'admin': "],
    ["Confirmation: "],
    ["Setup done; log in as 'admin'\r\n", NOISE, *noisy("cantine-console login: ")],
]


class FakeConsole(threading.Thread):
    def __init__(self, path):
        super().__init__(daemon=True)
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(1)
        self.answers = []

    def run(self):
        conn, _ = self.server.accept()
        with conn, self.server:
            self.converse(conn)

    def converse(self, conn):
        buffer = b""
        for writes in DIALOG:
            while b"\r" not in buffer:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                buffer += chunk
            line, buffer = buffer.split(b"\r", 1)
            self.answers.append(line.decode())
            for text in writes:
                conn.sendall(text.encode())
        conn.recv(1)  # until the script hangs up


class ConsoleWizard(unittest.TestCase):
    def test_answers_every_prompt_through_kernel_lines(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = pathlib.Path(tmp)
            (tmp / "serial.log").write_text("[    3.1] systemd\r\nPress Enter to set up this appliance\r\n")
            (tmp / "key.pub").write_text("ssh-ed25519 AAAA test\n")
            console = FakeConsole(str(tmp / "serial.sock"))
            console.start()
            run = subprocess.run(
                [sys.executable, str(SCRIPT), str(tmp / "serial.sock"), str(tmp / "serial.log"),
                 "cantine-console", "https://cantine-console.test", "10.0.2.0/24",
                 str(tmp / "key.pub"), "a-long-password"],
                check=False, capture_output=True, text=True, timeout=120)
            self.assertEqual(run.returncode, 0, run.stderr)
            self.assertIn("login prompt shown", run.stdout)
            self.assertEqual(console.answers, [
                "", "cantine-console", "https://cantine-console.test", "10.0.2.0/24",
                "ssh-ed25519 AAAA test", "short", "a-long-password", "a-long-password"])


if __name__ == "__main__":
    unittest.main()
