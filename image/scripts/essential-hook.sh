#!/bin/sh
# mmdebstrap essential hook: runs after the Essential:yes packages are installed and before the
# --include packages, so the kernel's postinst already sees how the appliance boots.
set -eu
# shellcheck source=../config.sh
. "$IMAGE_SRC/config.sh"
R=$1
printf 'UUID=%s / ext4 defaults,errors=remount-ro 0 1\n' "$ROOT_UUID" > "$R/etc/fstab"
mkdir -p "$R/etc/initramfs-tools/conf.d"
# no swap partition to resume from; without this the initramfs waits for one
echo RESUME=none > "$R/etc/initramfs-tools/conf.d/resume"
# GRUB on the ESP loads /boot/vmlinuz and /boot/initrd.img, so kernel upgrades only need these
# links to move (no grub-install or update-grub on the appliance).
printf 'do_symlinks = yes\nlink_in_boot = yes\n' > "$R/etc/kernel-img.conf"
