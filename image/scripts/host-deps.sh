#!/bin/bash
# Installs the build and test tools on a Debian 12 host (run as root).
# qemu-utils on the CI machines comes from bookworm-backports, so qemu-system-x86 (and the OVMF it
# is tested with) must come from there too; the backports source uses the same mirror as the host's
# own bookworm source, read from its apt configuration, so no mirror host is written here.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "host-deps: must run as root" >&2; exit 1; }

need_build=(mmdebstrap dosfstools mtools fdisk zstd e2fsprogs python3 xz-utils openssl bc qemu-utils git)
need_test=(qemu-system-x86 ovmf qemu-utils curl openssh-client rclone restic genisoimage
  # virt-v2v converts the OVA (as an IT team leaving VMware would), with nbdkit and nbdcopy
  # (libnbd-bin), which its Debian package does not depend on. libguestfs runs its helper VM on a
  # kernel that supermin takes from the host's /boot, and the CI machines boot one of their own.
  virt-v2v nbdkit libnbd-bin linux-image-amd64)

missing() {
  local p
  for p in "$@"; do
    # dpkg-query's complaint about a package it has never seen is the answer "missing"
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
  done
}

host_mirror() {
  # first URI of a stanza (deb822) or line (one-line format) that carries the bare "bookworm" suite
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    awk 'BEGIN{RS=""; FS="\n"}
      { uri=""; suite=0
        for (i=1;i<=NF;i++) {
          if ($i ~ /^URIs:/) { split(substr($i,6), u, " "); uri=u[1] }
          if ($i ~ /^Suites:/) { n=split(substr($i,8), s, " "); for (j=1;j<=n;j++) if (s[j]=="bookworm") suite=1 }
        }
        if (uri!="" && suite) { print uri; exit }
      }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -e "$f" ] || continue
    awk '$1=="deb" { i=2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i+1)=="bookworm") { print $i; exit } }' "$f"
  done
}

ensure_backports() {
  local bp=/etc/apt/sources.list.d/cantine-bookworm-backports.sources m
  if grep -rqsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then return 0; fi
  m=$(host_mirror | head -n1)
  [ -n "$m" ] || { echo "host-deps: cannot find the host's bookworm mirror in its apt sources" >&2; exit 1; }
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$m" > "$bp"
  echo "host-deps: added bookworm-backports from the host's mirror"
  updated=
}

updated=
apt_update() { [ -n "$updated" ] || { apt-get update -qq; updated=1; }; }
ensure_backports

what=${1:-all}
case $what in
  build) mapfile -t pkgs < <(missing "${need_build[@]}") ;;
  test)  mapfile -t pkgs < <(missing "${need_test[@]}") ;;
  all)   mapfile -t pkgs < <(missing "${need_build[@]}" "${need_test[@]}") ;;
  *) echo "usage: $0 build|test|all" >&2; exit 2 ;;
esac
# one version, so that two machines make the same package (a cargo-deb not installed at all
# is what the 2>/dev/null quiets)
CARGO_DEB_VERSION=3.8.0
if [ "$what" != test ] && ! cargo-deb --version 2>/dev/null | grep -qx "cargo-deb $CARGO_DEB_VERSION"; then
  echo "host-deps: installing cargo-deb $CARGO_DEB_VERSION from crates.io"
  cargo install --locked --force cargo-deb --version "$CARGO_DEB_VERSION"
fi
[ ${#pkgs[@]} -eq 0 ] && exit 0
apt_update
export DEBIAN_FRONTEND=noninteractive
# qemu-system-x86 and ovmf must match the backports qemu-utils; everything else from bookworm.
# Backports first: libguestfs (virt-v2v) depends on qemu-system-x86, which apt would otherwise
# take from bookworm.
bpo=(); std=()
for p in "${pkgs[@]}"; do case $p in qemu-system-x86|ovmf|qemu-utils) bpo+=("$p") ;; *) std+=("$p") ;; esac; done
[ ${#bpo[@]} -eq 0 ] || apt-get install -y -q --no-install-recommends -t bookworm-backports "${bpo[@]}"
[ ${#std[@]} -eq 0 ] || apt-get install -y -q --no-install-recommends "${std[@]}"
