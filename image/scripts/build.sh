#!/bin/bash
# Builds the appliance from the repository: cantine.deb, root tree, ESP, ext4, GPT disk and the
# distributable formats, into $OUT_DIR. No loop device, no mount. Run as root (image/Makefile).
set -euo pipefail
: "${IMAGE_DIR:?}" "${REPO_DIR:?}" "${BUILD_DIR:?}" "${OUT_DIR:?}"
export IMAGE_DIR REPO_DIR BUILD_DIR
umask 022
APT_CACHE=${APT_CACHE:-/var/cache/cantine-image/apt}
SRC_EXPORT=${SRC_EXPORT:-$IMAGE_DIR/src-export}
SUITE=bookworm

# The commit the application is built from (image-verify pins it for both of its builds).
IMAGE_COMMIT=$(git -C "$REPO_DIR" rev-parse --verify "${IMAGE_COMMIT:-HEAD}^{commit}")
# Reproducibility: every timestamp derives from the commit being built.
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git -C "$REPO_DIR" log -1 --format=%ct "$IMAGE_COMMIT")
fi
export SOURCE_DATE_EPOCH
export E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH   # e2fsprogs 1.47.0 ignores SOURCE_DATE_EPOCH
export PYTHONHASHSEED=0

# Everything that goes into the image comes from the committed tree ($IMAGE_COMMIT, exported
# with git archive), so that it matches SOURCE_DATE_EPOCH and uncommitted edits never leak in;
# IMAGE_FROM_WORKTREE=1 builds the work tree as it is instead (for trying local changes).
# The export lives at one fixed path: cargo derives symbol hashes from the package's path, so
# a path per build would give different binaries. Kept between builds of the same commit (cargo
# finds it fresh); re-exported with current mtimes when the commit changes, because git
# archive's commit-time mtimes can be older than an earlier build's outputs.
if [ -n "${IMAGE_FROM_WORKTREE:-}" ]; then
  SRC=$REPO_DIR
elif [ ! -f "$SRC_EXPORT/.image-commit" ] || [ "$(cat "$SRC_EXPORT/.image-commit")" != "$IMAGE_COMMIT" ]; then
  SRC=$SRC_EXPORT
  rm -rf "$SRC"; mkdir -p "$SRC"
  git -C "$REPO_DIR" -c tar.umask=0022 archive --format=tar "$IMAGE_COMMIT" | tar -x -m -C "$SRC"
  echo "$IMAGE_COMMIT" > "$SRC/.image-commit"
else
  SRC=$SRC_EXPORT
fi
# the image's own files (configuration overlay, hooks, boot menu, fixed identifiers)
export IMAGE_SRC=$SRC/image
# shellcheck source=../config.sh
. "$IMAGE_SRC/config.sh"

rm -rf "$BUILD_DIR" "$OUT_DIR"; mkdir -p "$BUILD_DIR" "$OUT_DIR" "$APT_CACHE"
TIMES=$OUT_DIR/build-times.txt; : > "$TIMES"
export TMPDIR=$BUILD_DIR/tmp; mkdir -p "$TMPDIR"
step() {
  local name=$1 t0 t1; shift; t0=$(date +%s.%N)
  echo "== $name"
  "$@"
  t1=$(date +%s.%N)
  printf '%-16s %7.1f s\n' "$name" "$(echo "$t1 - $t0" | bc)" | tee -a "$TIMES"
}
# mirror host names stay out of logs that may be published
redact() { sed -E 's#(https?)://[^ /]+#\1://<mirror>#g'; }

apt_sources() {
  # The image's apt sources: $IMAGE_APT_SOURCES if given (a .sources file), else the build
  # host's own Debian bookworm sources, less the backports the host tooling needs.
  if [ -n "${IMAGE_APT_SOURCES:-}" ]; then
    cp "$IMAGE_APT_SOURCES" "$BUILD_DIR/apt.sources"
  else
    python3 "$IMAGE_SRC/scripts/apt-sources.py" > "$BUILD_DIR/apt.sources"
  fi
  export APT_SOURCES_IMAGE=$BUILD_DIR/apt.sources
}

build_deb() {
  local locked=--locked
  [ -z "${IMAGE_FROM_WORKTREE:-}" ] || locked=
  # Same cargo target directory as the workspace: dependencies are shared, not rebuilt.
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO_DIR/target}
  # the commit stamped into the binary (app/build.rs), also outside a checkout
  export CANTINE_COMMIT=${CANTINE_COMMIT:-${IMAGE_COMMIT:0:12}}
  (cd "$SRC" && nice cargo build --release $locked -p cantine 2>&1 | tail -n 3 &&
   nice cargo deb -p cantine --no-build --output "$BUILD_DIR/cantine.deb" 2>&1 | tail -n 3)
  dpkg-deb -I "$BUILD_DIR/cantine.deb" | sed -n 's/^ \(Package\|Version\|Installed-Size\):/  \1:/p'
}

PACKAGES=(
  systemd-sysv udev dbus libpam-systemd kmod systemd-resolved systemd-timesyncd
  linux-image-amd64 initramfs-tools zstd shim-signed grub-efi-amd64-signed grub-efi-amd64 dosfstools
  e2fsprogs cloud-guest-utils fdisk
  iproute2 iputils-ping procps openssh-server sudo ca-certificates openssl curl less nano logrotate
  nftables nginx postgresql-15 postgresql-client-15
  prometheus-node-exporter prometheus-postgres-exporter
  unattended-upgrades python3 python3-yaml
  qemu-guest-agent open-vm-tools hyperv-daemons
)

rootfs() {
  local inc; inc=$(IFS=,; echo "${PACKAGES[*]}")
  # Package cache: downloaded .debs are kept between builds (warm cache), never in the image.
  # The hooks are shell code that mmdebstrap runs: "$1" is its target tree, expanded there.
  # shellcheck disable=SC2016
  nice mmdebstrap --mode=root --variant=minbase --format=directory \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --include="$inc" \
    --skip=download/empty \
    --setup-hook='mkdir -p "$1/var/cache/apt/archives"' \
    --setup-hook="sync-in $APT_CACHE /var/cache/apt/archives/" \
    --essential-hook='"$IMAGE_SRC/scripts/essential-hook.sh" "$1"' \
    --customize-hook="sync-out /var/cache/apt/archives $APT_CACHE" \
    --customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb "$1"/var/cache/apt/*.bin' \
    --customize-hook='"$IMAGE_SRC/scripts/customize-hook.sh" "$1"' \
    "$SUITE" "$BUILD_DIR/rootfs" "$BUILD_DIR/apt.sources" 2>&1 | redact > "$BUILD_DIR/mmdebstrap.log" \
    || { tail -n 40 "$BUILD_DIR/mmdebstrap.log"; return 1; }
  # Files written by the hooks carry the build time: clamp every mtime to the commit time.
  find "$BUILD_DIR/rootfs" -newermt "@$SOURCE_DATE_EPOCH" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +
  du -sh --apparent-size "$BUILD_DIR/rootfs" | sed 's/^/  root tree: /'
}

esp() {
  local R=$BUILD_DIR/rootfs E=$BUILD_DIR/esp.img
  # The ESP as `grub-install --target=x86_64-efi --force-extra-removable --no-nvram` leaves it,
  # the command the postinst scripts of shim-signed and grub-efi-amd64 run on the appliance at
  # every update of either (essential-hook.sh gives them these options through debconf).
  # grub-install itself cannot run here: it wants the ESP mounted and probes the build host's
  # devices. Debian's signed chain: shim (signed by Microsoft) -> GRUB (signed by Debian) ->
  # kernel (signed by Debian).
  # EFI/debian/grub.cfg is the three lines grub-install writes (to the byte: on a virtio disk it
  # gives no device hint after "root "): find the root filesystem, read /boot/grub/grub.cfg
  # there. The signed GRUB's built-in prefix is /EFI/debian on the device it was started from,
  # whichever of the two paths that was.
  printf "search.fs_uuid %s root \nset prefix=(\$root)'/boot/grub'\nconfigfile \$prefix/grub.cfg\n" \
    "$ROOT_UUID" > "$BUILD_DIR/grub.cfg"
  # mcopy -m keeps each file's mtime: the generated one gets the commit time, not the build time
  touch --date="@$SOURCE_DATE_EPOCH" "$BUILD_DIR/grub.cfg"
  rm -f "$E"; truncate -s "${ESP_MIB}M" "$E"
  # --invariant replaces a volume id given before it, so -i comes after it
  mkfs.vfat -F 32 -n ESP --invariant -i "$FAT_VOLID" "$E" > /dev/null
  export MTOOLS_SKIP_CHECK=1
  mmd -i "$E" ::/EFI ::/EFI/debian ::/EFI/BOOT
  # Debian's own path, which a boot entry of the firmware would name (\EFI\debian\shimx64.efi):
  # shim, GRUB, MokManager, shim's fallback and the CSV file the fallback reads
  mcopy -m -i "$E" "$R/usr/lib/shim/shimx64.efi.signed" ::/EFI/debian/shimx64.efi
  mcopy -m -i "$E" "$R/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" ::/EFI/debian/grubx64.efi
  mcopy -m -i "$E" "$R/usr/lib/shim/mmx64.efi.signed" ::/EFI/debian/mmx64.efi
  mcopy -m -i "$E" "$R/usr/lib/shim/fbx64.efi.signed" ::/EFI/debian/fbx64.efi
  mcopy -m -i "$E" "$R/usr/lib/shim/BOOTX64.CSV" ::/EFI/debian/BOOTX64.CSV
  mcopy -m -i "$E" "$BUILD_DIR/grub.cfg" ::/EFI/debian/grub.cfg
  # The removable-media path, which firmware boots when it has no boot entry of its own (every
  # new or converted VM): shim as BOOTX64.EFI, GRUB and MokManager beside it. No fallback
  # (grub-install puts one there only when it updates the NVRAM), so shim starts GRUB directly.
  mcopy -m -i "$E" "$R/usr/lib/shim/shimx64.efi.signed" ::/EFI/BOOT/BOOTX64.EFI
  mcopy -m -i "$E" "$R/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" ::/EFI/BOOT/grubx64.efi
  mcopy -m -i "$E" "$R/usr/lib/shim/mmx64.efi.signed" ::/EFI/BOOT/mmx64.efi
}

rootimg() {
  local I=$BUILD_DIR/root.img sde
  rm -f "$I"; truncate -s "${ROOT_MIB}M" "$I"
  # metadata_csum_seed and orphan_file are not understood by bookworm's GRUB 2.06
  mkfs.ext4 -q -F -L root -U "$ROOT_UUID" -O ^metadata_csum_seed,^orphan_file \
    -E "hash_seed=$HASH_SEED,root_owner=0:0,lazy_itable_init=0" -d "$BUILD_DIR/rootfs" "$I"
  # mke2fs -d copies ctime/atime from the unpacked tree (build time): pin them in every used inode
  sde=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y%m%d%H%M%S)
  # dumpe2fs writes its version banner to stderr: kept in a log, shown if it fails
  dumpe2fs "$I" 2> "$BUILD_DIR/dumpe2fs.log" | python3 "$IMAGE_SRC/scripts/pin-inode-times.py" "$sde" > "$BUILD_DIR/pin.debugfs" \
    || { cat "$BUILD_DIR/dumpe2fs.log"; return 1; }
  debugfs -w -f "$BUILD_DIR/pin.debugfs" "$I" > "$BUILD_DIR/pin.log" 2>&1
  e2fsck -fn "$I" > "$BUILD_DIR/e2fsck.log" 2>&1 || { tail "$BUILD_DIR/e2fsck.log"; return 1; }
  echo "  pinned $(grep -c ' ctime ' "$BUILD_DIR/pin.debugfs") inodes"
}

assemble() {
  local D=$BUILD_DIR/disk.raw
  rm -f "$D"; truncate -s "${DISK_MIB}M" "$D"
  sfdisk -q --no-reread --no-tell-kernel "$D" <<S
label: gpt
label-id: $DISK_GUID
unit: sectors
first-lba: 2048
start=$((ESP_START_MIB * 2048)), size=$((ESP_MIB * 2048)), type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=$ESP_PARTUUID, name="esp"
start=$((ROOT_START_MIB * 2048)), size=$((ROOT_MIB * 2048)), type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=$ROOT_PARTUUID, name="root"
S
  dd if="$BUILD_DIR/esp.img"  of="$D" bs=1M seek="$ESP_START_MIB"  conv=notrunc,sparse status=none
  dd if="$BUILD_DIR/root.img" of="$D" bs=1M seek="$ROOT_START_MIB" conv=notrunc,sparse status=none
  du -h "$D" | sed 's/^/  allocated: /'
}

N=$IMAGE_NAME
conv_raw()   { nice zstd -q -f -T2 -10 -o "$OUT_DIR/$N.raw.zst" "$BUILD_DIR/disk.raw"; }
conv_qcow2() { nice qemu-img convert -f raw -O qcow2 -c -o compression_type=zstd "$BUILD_DIR/disk.raw" "$OUT_DIR/$N.qcow2"; }
conv_vhdx()  {
  nice qemu-img convert -f raw -O vhdx -o subformat=dynamic "$BUILD_DIR/disk.raw" "$OUT_DIR/$N.vhdx"
  python3 "$IMAGE_SRC/scripts/vhdx-pin.py" "$OUT_DIR/$N.vhdx" "$DISK_GUID"
}
conv_ova()   {
  local V=$BUILD_DIR/ova/$N-disk1.vmdk
  mkdir -p "$BUILD_DIR/ova"
  nice qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$BUILD_DIR/disk.raw" "$V"
  python3 "$IMAGE_SRC/scripts/vmdk-pin.py" "$V" "$VMDK_CID"
  python3 "$IMAGE_SRC/scripts/make-ova.py" --name "$N" --vmdk "$V" \
    --capacity $((DISK_MIB * 1024 * 1024)) --version "$(git -C "$REPO_DIR" describe --always --tags --abbrev=12 "$IMAGE_COMMIT")" \
    --out "$OUT_DIR/$N.ova"
}
tree_manifest() {
  # For image-verify: every path with its metadata and content hash, to say which file differs.
  # A directory's size is the build host's (it keeps the blocks of entries since deleted, such as
  # downloaded packages); mkfs.ext4 -d makes fresh directories, so it is left out.
  (cd "$BUILD_DIR/rootfs" && find . \( -type d -printf '%p %M %U:%G - %T@\n' \) -o -printf '%p %M %U:%G %s %T@ %l\n' \
     | LC_ALL=C sort > "$BUILD_DIR/rootfs.manifest" &&
   find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum >> "$BUILD_DIR/rootfs.manifest")
}
parts() {
  (cd "$BUILD_DIR"
   files=(cantine.deb grub.cfg esp.img root.img disk.raw ova/*.vmdk)
   if [ -f rootfs.manifest ]; then files+=(rootfs.manifest); fi
   sha256sum "${files[@]}" > parts.sha256)
}
sums() {
  (cd "$OUT_DIR" && sha256sum "$N.raw.zst" "$N.qcow2" "$N.ova" "$N.vhdx" > SHA256SUMS && cat SHA256SUMS)
  # what the outputs were built from, for the boot test to say
  echo "$IMAGE_COMMIT${IMAGE_FROM_WORKTREE:++worktree}" > "$OUT_DIR/commit"
}

echo "SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH ($(date -u -d "@$SOURCE_DATE_EPOCH" +%FT%TZ))"
t_all=$(date +%s)
step sources   apt_sources
step deb       build_deb
step rootfs    rootfs
[ -z "${TREE_MANIFEST:-}" ] || step manifest tree_manifest
step esp       esp
step ext4      rootimg
step assemble  assemble
step raw.zst   conv_raw
step qcow2     conv_qcow2
step vhdx      conv_vhdx
step ova       conv_ova
step sums      sums
[ -z "${TREE_MANIFEST:-}" ] || parts
printf '%-16s %7d s\n' total $(( $(date +%s) - t_all )) | tee -a "$TIMES"
ls -l "$OUT_DIR"
