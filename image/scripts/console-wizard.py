#!/usr/bin/env python3
"""Boot test step: answers the console wizard of an appliance started without a seed, over its
serial console (a QEMU chardev on a Unix socket), as an administrator at the Proxmox or libvirt
serial console would. Usage:
  console-wizard.py SOCKET LOGFILE HOSTNAME PUBLIC_URL NETWORKS SSH_KEY_FILE PASSWORD
LOGFILE is the chardev's log: what the console printed before this script connected.
Exits 0 once the wizard has said it applied the settings and a login prompt follows."""
import pathlib
import re
import socket
import sys
import time

sock_path, log_file, hostname, url, networks, key_file, password = sys.argv[1:8]
key = pathlib.Path(key_file).read_text().strip()

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock_path)
s.settimeout(1)
seen = ""
# The kernel writes to the same serial port at any moment, even in the middle of a prompt
# (under emulation, bursts of "__common_interrupt: ... No irq handler for vector"): its lines,
# "[   64.48] message", are taken out before matching.
KERNEL_LINE = re.compile(r"\[\s*\d+\.\d+\] [^\n]*\n")


def expect(pattern, timeout):
    """Reads the console until pattern (a regex) appears after what was already matched."""
    global seen
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = re.search(pattern, seen)
        if m:
            seen = seen[m.end():]
            return
        try:
            chunk = s.recv(4096)
        except TimeoutError:
            continue
        if not chunk:
            break
        seen = KERNEL_LINE.sub("", seen + chunk.decode("utf-8", "replace"))
    tail = seen[-400:].replace("\r", "")
    # the check shows the last lines: the pattern that was missing comes last
    sys.exit(f"console said:\n{tail}\nconsole-wizard: no {pattern!r} within {timeout} s")


def send(text):
    s.sendall(text.encode() + b"\r")


# Input that reaches a serial port before a getty opens it is lost: wait for the banner.
deadline = time.monotonic() + 300
while "Press Enter to set up" not in pathlib.Path(log_file).read_text(errors="replace"):
    if time.monotonic() > deadline:
        sys.exit("console-wizard: the wizard's banner never appeared on the serial console")
    time.sleep(1)
send("")
expect(r"host name \[[^\]]*\]: ", 120)
send(hostname)
expect(r"public URL \[[^\]]*\]: ", 60)
send(url)
expect(r"admin networks \[[^\]]*\]: ", 60)
send(networks)
expect(r"SSH public key \(optional\): ", 60)
send(key)
expect(r"password for 'admin': ", 60)
send("short")                      # refused: fewer than 12 characters
expect(r"at least 12 characters", 60)
expect(r"password for 'admin': ", 60)
send(password)
expect(r"Confirmation: ", 60)
send(password)
expect(r"Setup done; log in as 'admin'", 180)
expect(r"login: ", 120)
print("console-wizard: settings applied, login prompt shown")
