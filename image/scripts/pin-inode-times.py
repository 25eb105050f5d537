#!/usr/bin/env python3
"""Reads `dumpe2fs` output on stdin, prints a debugfs script that sets ctime and atime of every
used inode to the given time (YYYYMMDDHHMMSS).

mke2fs -d copies ctime/atime from the source tree, i.e. from when the build unpacked it; the
mtime is already clamped and the creation time comes from E2FSPROGS_FAKE_TIME."""
import re
import sys

when = sys.argv[1]
total = per_group = None
free = set()
for line in sys.stdin:
    if m := re.match(r"Inode count:\s+(\d+)", line):
        total = int(m.group(1))
    elif m := re.match(r"\s+Free inodes: (.*)", line):
        for part in m.group(1).split(","):
            part = part.strip()
            if not part:
                continue
            lo, _, hi = part.partition("-")
            free.update(range(int(lo), int(hi or lo) + 1))
if total is None:
    sys.exit("pin-inode-times: no inode count in dumpe2fs output")
# inode 2 is the root directory; 3..11 are reserved and written by mke2fs itself
for ino in [2, *range(12, total + 1)]:
    if ino not in free:
        print(f"sif <{ino}> ctime {when}")
        print(f"sif <{ino}> atime {when}")
