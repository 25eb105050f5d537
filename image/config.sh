# Fixed identifiers and layout of the appliance disk, sourced by every build step.
# They are constants on purpose: two builds of the same commit must give the same bytes, and
# every machine-unique value (machine-id, host keys, cluster, secrets, certificate) is made at
# first boot, not here.
# shellcheck shell=sh disable=SC2034  # sourced (by sh and bash): the scripts that source it use them
IMAGE_NAME=cantine
ROOT_UUID=c4a71e00-5eed-4c0d-8a11-000000000001
HASH_SEED=c4a71e00-5eed-4c0d-8a11-000000000002
DISK_GUID=c4a71e00-5eed-4c0d-8a11-000000000010
ESP_PARTUUID=c4a71e00-5eed-4c0d-8a11-000000000011
ROOT_PARTUUID=c4a71e00-5eed-4c0d-8a11-000000000012
FAT_VOLID=C4A71E00
# the same volume id as blkid and /etc/fstab write it (C4A7-1E00)
ESP_UUID=$(echo "$FAT_VOLID" | sed 's/^..../&-/')
VMDK_CID=c4a71e00
DISK_MIB=4096            # virtual size; the root filesystem grows to the real disk at first boot
ESP_START_MIB=1
ESP_MIB=128
ROOT_START_MIB=$((ESP_START_MIB + ESP_MIB))
ROOT_MIB=$((DISK_MIB - ROOT_START_MIB - 1))   # leave 1 MiB for the backup GPT
# The serial console besides the screen: GRUB_CMDLINE_LINUX (set through debconf, as the Debian
# installer does), which update-grub puts between "root=UUID=... ro" and "quiet".
KERNEL_CONSOLES="console=tty0 console=ttyS0,115200n8"
export TZ=UTC LC_ALL=C.UTF-8
