#!/bin/sh
# mmdebstrap essential hook: runs after the Essential:yes packages are installed and before the
# --include packages, so the kernel's and GRUB's maintainer scripts already see how the
# appliance boots.
set -eu
# shellcheck source=../config.sh
. "$IMAGE_SRC/config.sh"
R=$1
# The EFI system partition is mounted where Debian mounts it, with the Debian installer's
# options: grub-install (run by the postinst scripts of shim-signed and grub-efi-amd64) writes
# the boot loader there, and conversion and rescue tools (virt-v2v) look for it there. nofail:
# a damaged ESP shows in `systemctl --failed` but never stops the boot (the firmware has read
# the boot loader from it already).
{
  printf 'UUID=%s / ext4 defaults,errors=remount-ro 0 1\n' "$ROOT_UUID"
  printf 'UUID=%s /boot/efi vfat umask=0077,nofail 0 1\n' "$ESP_UUID"
} > "$R/etc/fstab"
mkdir -p "$R/boot/efi"
# The answers the Debian installer gives on an EFI machine, before the GRUB packages ask:
# - force_efi_extra_removable: grub-install also writes shim and GRUB to the removable-media
#   path EFI/BOOT/BOOTX64.EFI, which firmware boots when it has no boot entry of its own (a new
#   VM from the image, a converted one);
# - update_nvram false: no boot entry written to the firmware. NVRAM belongs to one VM and is
#   lost on export or conversion, so the appliance always boots the removable path; and with
#   NVRAM updates grub-install adds shim's fallback (fbx64.efi) there, which on such a boot
#   writes an entry and may reset the machine first;
# - linux_cmdline: GRUB_CMDLINE_LINUX in /etc/default/grub, for update-grub.
chroot "$R" debconf-set-selections <<EOF
grub-efi-amd64 grub2/force_efi_extra_removable boolean true
grub-efi-amd64 grub2/update_nvram boolean false
grub-efi-amd64 grub2/linux_cmdline string $KERNEL_CONSOLES
EOF
mkdir -p "$R/etc/initramfs-tools/conf.d"
# no swap partition to resume from; without this the initramfs waits for one
echo RESUME=none > "$R/etc/initramfs-tools/conf.d/resume"
# The /boot/vmlinuz and /boot/initrd.img links that the kernel packages keep pointing at the
# newest kernel: the menu the image is built with boots them (boot/grub.cfg.in), until
# update-grub writes its own.
printf 'do_symlinks = yes\nlink_in_boot = yes\n' > "$R/etc/kernel-img.conf"
