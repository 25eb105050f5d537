#!/bin/bash
# mmdebstrap customize hook: everything the appliance needs on top of the packages.
# Runs on the build host with the target tree in $1; commands inside use chroot.
set -euo pipefail
# shellcheck source=../config.sh
. "$IMAGE_SRC/config.sh"
R=$1
inroot() { chroot "$R" "$@"; }

# Overlay of configuration files (rootfs/ mirrors the target paths). Owned by root, with modes
# set here rather than taken from the checkout (whose umask may differ).
umask 022
cp -r --no-preserve=mode,ownership "$IMAGE_SRC/rootfs/." "$R/"
# bytecode the tests or a build script left in a work tree's copy (IMAGE_FROM_WORKTREE=1) holds
# that tree's times: never copied into the image
rm -rf "$R/usr/lib/cantine-image/__pycache__"
chmod 0755 "$R"/usr/lib/cantine-image/*
# sudo ignores a sudoers.d file with a mode other than 0440 (the copy above made them 0644)
for f in "$R"/etc/sudoers.d/*; do
  if [ -f "$f" ]; then chmod 0440 "$f"; fi
done
install -D -m 0644 "$IMAGE_SRC/README.md" "$R/usr/share/doc/cantine-image/README.md"

# The application, as built by cargo-deb from this checkout.
cp "$BUILD_DIR/cantine.deb" "$R/tmp/cantine.deb"
DEBIAN_FRONTEND=noninteractive inroot apt-get install -y -q --no-install-recommends /tmp/cantine.deb
rm -f "$R/tmp/cantine.deb"

# apt sources of the appliance: by default those the image was built from.
rm -f "$R/etc/apt/sources.list" "$R"/etc/apt/sources.list.d/*
cp "$APT_SOURCES_IMAGE" "$R/etc/apt/sources.list.d/debian.sources"
chmod 0644 "$R/etc/apt/sources.list.d/debian.sources"

echo cantine > "$R/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tcantine\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n' > "$R/etc/hosts"

# nginx: only the appliance's site
rm -f "$R/etc/nginx/sites-enabled/default"
mkdir -p "$R/var/www/acme"
ln -sf ../sites-available/cantine "$R/etc/nginx/sites-enabled/cantine"

# PostgreSQL: initdb under software emulation takes most of a minute, so the cluster is made
# here, with the roles and database, and made unique at first boot (pg-control randomize, then
# pg_resetwal). The one the package made has a random identifier: replaced by a normalized one.
if [ -d "$R/etc/postgresql/15/main" ]; then inroot pg_dropcluster --stop 15 main; fi
# The snakeoil certificate has a private key made at install time: removed, and before the cluster
# is made so that PostgreSQL (local only) is not configured to use it.
rm -f "$R/etc/ssl/private/ssl-cert-snakeoil.key" "$R/etc/ssl/certs/ssl-cert-snakeoil.pem"
find "$R/etc/ssl/certs" -xtype l -delete
rm -rf "$R/var/lib/postgresql/15/main" "$R/etc/postgresql/15/main"
# Local only: listen_addresses stays 'localhost'; peer for the socket, SCRAM over TCP.
inroot pg_createcluster --locale=C.UTF-8 --start-conf=auto 15 main -- \
  --auth-local=peer --auth-host=scram-sha-256 --data-checksums --no-sync > /dev/null
# the roles and database (rootfs/usr/share/cantine-image/bootstrap.sql, which first boot also
# uses when the cluster was removed)
chroot --userspec=postgres:postgres "$R" /usr/lib/postgresql/15/bin/postgres --single -j \
  -D /var/lib/postgresql/15/main -c config_file=/etc/postgresql/15/main/postgresql.conf postgres \
  < "$R/usr/share/cantine-image/bootstrap.sql" > "$BUILD_DIR/pg-roles.log" 2>&1
if grep -q ERROR "$BUILD_DIR/pg-roles.log"; then cat "$BUILD_DIR/pg-roles.log"; exit 1; fi
# what differs between two initdb runs: pg_control (identifier, nonce, times), the WAL and the
# statistics file (reset timestamp); the WAL is rewritten at first boot, statistics start empty
rm -f "$R"/var/lib/postgresql/15/main/pg_wal/0000* "$R/var/lib/postgresql/15/main/pg_stat/pgstat.stat"
python3 "$R/usr/lib/cantine-image/pg-control" normalize "$R/var/lib/postgresql/15/main/global/pg_control" "$SOURCE_DATE_EPOCH"

# GRUB's menu, where update-grub keeps it (boot/grub.cfg.in says why it is written by hand),
# mode 0444 as grub-mkconfig leaves it. Written after every package is installed: finding it,
# grub-efi-amd64's postinst would run update-grub, which cannot work in a chroot.
sed -e "s|@ROOT_UUID@|$ROOT_UUID|g" -e "s|@CONSOLES@|$KERNEL_CONSOLES|g" \
  "$IMAGE_SRC/boot/grub.cfg.in" > "$R/boot/grub/grub.cfg"
chmod 0444 "$R/boot/grub/grub.cfg"

inroot systemctl enable systemd-networkd.service systemd-resolved.service nftables.service \
  cantine-firstboot-early.service cantine-firstboot.service cantine-backup-init.service \
  serial-getty@ttyS0.service
# systemd-firstboot would prompt on the console at the first boot: the appliance's own first-boot
# units and the console wizard (getty@tty1) replace it
if [ -e "$R/lib/systemd/system/systemd-firstboot.service" ]; then inroot systemctl mask systemd-firstboot.service; fi
# postgresql.service pulls in every cluster (postgresql-common's generator)
inroot systemctl enable postgresql.service cantine.service

# Host keys and machine identity are made at first boot; an empty machine-id tells systemd this
# is the first boot.
rm -f "$R"/etc/ssh/ssh_host_*
: > "$R/etc/machine-id"
rm -f "$R/var/lib/dbus/machine-id"
ln -s /etc/machine-id "$R/var/lib/dbus/machine-id"
rm -f "$R/var/lib/systemd/random-seed" "$R/var/cache/ldconfig/aux-cache"
mkdir -p "$R/var/log/journal"
# logs of the build itself
find "$R/var/log" -type f -exec truncate -s 0 {} +
rm -rf "$R/var/lib/cantine-setup"
