#!/usr/bin/env python3
"""Prints, as deb822 stanzas, the build host's Debian bookworm apt sources: what the image is
built from and keeps. Reads /etc/apt/sources.list, sources.list.d/*.list (one-line format) and
sources.list.d/*.sources (deb822) under ROOT (default /).

Kept: enabled `deb` entries for bookworm, bookworm-updates and bookworm-security, signed by the
Debian archive keyring (or by no keyring named, with the `main` component). Dropped: backports
(the build host's tooling needs them, the appliance does not), other distributions and
third-party repositories. A `mirror+file:` URI is replaced by the first mirror its list names,
since that file does not exist in the image. Exits 1 when nothing is left.
"""
import glob
import os
import sys

KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
SUITES = ("bookworm", "bookworm-updates", "bookworm-security")


def one_line_entries(text):
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        options, rest = {}, words[1:]
        if rest and rest[0].startswith("["):
            opts = []
            while rest:
                opts.append(rest.pop(0))
                if opts[-1].endswith("]"):
                    break
            for opt in " ".join(opts).strip("[]").split():
                key, _, value = opt.partition("=")
                options[key.lower()] = value
        if len(rest) >= 3:
            yield {"types": ["deb"], "uris": [rest[0]], "suites": [rest[1]],
                   "components": rest[2:], "signed-by": options.get("signed-by", "")}


def deb822_entries(text):
    for stanza in text.split("\n\n"):
        fields, key = {}, None
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0] in " \t" and key:  # continuation (a multi-line Signed-By key block)
                fields[key] += "\n" + line
                continue
            key, _, value = line.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
        if fields.get("enabled", "yes").lower() == "no":
            continue
        yield {"types": fields.get("types", "").split(), "uris": fields.get("uris", "").split(),
               "suites": fields.get("suites", "").split(),
               "components": fields.get("components", "").split(),
               "signed-by": fields.get("signed-by", "")}


def resolve(uri, root):
    if not uri.startswith("mirror+file:"):
        return uri
    path = uri[len("mirror+file:"):]
    with open(os.path.join(root, path.lstrip("/"))) as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if line:
                return line[0]
    raise ValueError(f"{uri}: the mirror list is empty")


def debian_sources(root):
    apt = os.path.join(root, "etc/apt")
    entries = []
    one_line = [os.path.join(apt, "sources.list")] + sorted(glob.glob(os.path.join(apt, "sources.list.d/*.list")))
    for path in one_line:
        if os.path.exists(path):
            with open(path) as f:
                entries += one_line_entries(f.read())
    for path in sorted(glob.glob(os.path.join(apt, "sources.list.d/*.sources"))):
        with open(path) as f:
            entries += deb822_entries(f.read())
    stanzas = []
    for e in entries:
        suites = [s for s in e["suites"] if s in SUITES]
        debian_key = ((e["signed-by"] == "" and "main" in e["components"])
                      or "debian-archive-keyring" in e["signed-by"])
        if "deb" not in e["types"] or not suites or not e["uris"] or not debian_key:
            continue
        uris = [resolve(u, root) for u in e["uris"]]
        stanzas.append(f"Types: deb\nURIs: {' '.join(uris)}\nSuites: {' '.join(suites)}\n"
                       f"Components: {' '.join(e['components'])}\nSigned-By: {KEYRING}\n")
    return "\n".join(dict.fromkeys(stanzas))


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "/"
    text = debian_sources(root)
    if not text:
        sys.exit(f"apt-sources: no Debian bookworm source in {os.path.join(root, 'etc/apt')}; "
                 "set IMAGE_APT_SOURCES to a .sources file")
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
