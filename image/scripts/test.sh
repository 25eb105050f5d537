#!/bin/bash
# Boot test of the appliance under QEMU (TCG, q35, OVMF) with a NoCloud seed and user-mode
# networking forwarded to loopback ports. Every probe speaks the service's own protocol (HTTPS,
# SSH): a bare TCP connect to a forwarded port succeeds even when nothing listens in the guest.
#
# Boot 1: the qcow2 with OVMF's Secure Boot firmware and Microsoft keys (Debian's signed shim,
#         GRUB and kernel), the disk grown to 6 GiB, a NoCloud seed: full checks, including a
#         backup to a second site the host serves (rclone serve restic, TLS, append-only); then
#         shim and GRUB reinstalled from the Debian mirror, update-grub, and a reboot.
# Boot 2: the raw disk with plain OVMF, the same seed: a second first boot of the same image,
#         whose secrets, keys and identifiers must all differ from boot 1's, and which opens
#         the second site's existing repository instead of creating one.
# Boot 3: the VMDK from the OVA (Secure Boot), settings from an OVF environment (ISO
#         transport) built from the OVA descriptor's own property keys, no NoCloud seed.
# Boot 4: the VHDX with no seed at all: the console wizard, answered over the serial console.
# Boot 5: the OVA converted by virt-v2v (as when leaving VMware for KVM), Secure Boot, the seed.
# Each format is also compared block for block with the raw disk.
set -uo pipefail
: "${IMAGE_DIR:?}" "${OUT_DIR:?}" "${BUILD_DIR:?}"
# the image's fixed identifiers (ESP_PARTUUID, ESP_UUID, ROOT_UUID, KERNEL_CONSOLES)
# shellcheck source=../config.sh
. "$IMAGE_DIR/config.sh"
RUN=${TEST_DIR:-$IMAGE_DIR/test-run}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-420}   # seconds from qemu start to /readyz 200
N=cantine
rm -rf "$RUN"; mkdir -p "$RUN"
pass=0 fail=0
ok()   { pass=$((pass + 1)); echo "  ok    $*" | tee -a "$RUN/results.txt"; }
bad()  { fail=$((fail + 1)); echo "  FAIL  $*" | tee -a "$RUN/results.txt"; }
check() {  # check DESCRIPTION COMMAND...: on failure, the command's last output lines are shown
  local what=$1 out t0; shift
  t0=$(date +%s.%N)
  if out=$("$@" 2>&1); then ok "$what"; else bad "$what"; printf '%s\n' "$out" | tail -n 5 | sed 's/^/          /'; fi
  # (how long each check took, in the log only)
  printf '== %s (%s s)\n%s\n' "$what" "$(echo "$(date +%s.%N) $t0" | awk '{printf "%.1f", $1 - $2}')" "$out" >> "$RUN/checks.log"
}
QPID=
SITE_PID=
cleanup() {  # either may have exited already (the usual end), or never started
  local p
  for p in "$QPID" "$SITE_PID"; do [ -z "$p" ] || kill "$p" 2>/dev/null; done
  wait
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

ssh-keygen -q -t ed25519 -N '' -C image-test -f "$RUN/id_admin"

# The second site: the host's rclone serving a restic REST repository over TLS (its own CA),
# append-only, with basic authentication; the guest reaches the host's loopback as 10.0.2.2.
SITE=$RUN/second-site
start_second_site() {
  mkdir -p "$SITE/data"
  ( cd "$SITE" || exit
    ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
    openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 2 -subj "/CN=Cantine image-test CA" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
    openssl req "${ec[@]}" -keyout server.key -out server.csr -subj /CN=10.0.2.2
    printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:10.0.2.2,IP:127.0.0.1\n' > server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext
    openssl rand -hex 16 > http-password; openssl rand -hex 16 > repo-password
    printf 'cantine:%s\n' "$(openssl passwd -apr1 "$(cat http-password)")" > htpasswd
    : > rclone.conf ) > "$SITE/setup.log" 2>&1
  PSITE=$(free_port); export PSITE
  RCLONE_CONFIG=$SITE/rclone.conf rclone serve restic --addr "127.0.0.1:$PSITE" --append-only --private-repos \
    --htpasswd "$SITE/htpasswd" --cert "$SITE/server.pem" --key "$SITE/server.key" "$SITE/data" \
    > "$SITE/rclone.log" 2>&1 &
  SITE_PID=$!
  # the guest's URL; the host reads the same repository on 127.0.0.1
  SITE_REPO="rest:https://cantine@10.0.2.2:$PSITE/cantine/"
}
site_restic() {
  RESTIC_PASSWORD_FILE=$SITE/repo-password restic --cacert "$SITE/ca.pem" --no-cache \
    -r "rest:https://cantine:$(cat "$SITE/http-password")@127.0.0.1:$PSITE/cantine/" "$@"
}

# With the appliance's own credentials: list the repository's keys, try to delete one (403
# expected), and check it is still there.
site_refuses_delete() {
  local url=https://127.0.0.1:$PSITE/cantine/keys/ auth key code
  auth=(--cacert "$SITE/ca.pem" -u "cantine:$(cat "$SITE/http-password")")
  key=$(curl -sf "${auth[@]}" -H 'Accept: application/vnd.x.restic.rest.v2' "$url" \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["name"])') || return 1
  code=$(curl -s "${auth[@]}" -o /dev/null -w '%{http_code}' -X DELETE "$url$key")
  echo "DELETE keys/$key: $code"
  [ "$code" = 403 ] && curl -sf -I "${auth[@]}" "$url$key" > /dev/null
}

indent() { sed 's/^/          /'; }

make_seed() {  # make_seed DIR INSTANCE [tls]: with tls, a certificate the test CA signed and an SMTP relay
  local d=$1 tls=
  mkdir -p "$d/seed"
  if [ "${3:-}" = tls ]; then
    ( cd "$SITE" || exit
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout web.key -out web.csr -subj /CN=cantine-test.techniville.test
      printf 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:cantine-test.techniville.test\n' > web.ext
      openssl x509 -req -in web.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out web.pem -days 2 -extfile web.ext ) >> "$SITE/setup.log" 2>&1
    tls="  tls_certificate: |
$(indent < "$SITE/web.pem")
  tls_private_key: |
$(indent < "$SITE/web.key")
  smtp:
    url: smtp://cantine@mail.techniville.test:587
    password: relay-secret-$2
    from: Cantine de Techniville <cantine@techniville.test>"
  fi
  printf 'instance-id: %s\nlocal-hostname: cantine-test\n' "$2" > "$d/seed/meta-data"
  cat > "$d/seed/user-data" <<U
#cloud-config
hostname: cantine-test
fqdn: cantine-test.techniville.test
ssh_authorized_keys:
  - $(cat "$RUN/id_admin.pub")
cantine:
  public_url: https://cantine-test.techniville.test
  admin_networks: [10.0.2.0/24, 192.168.0.0/16]
${tls:+$tls
}  backup:
    keep: {hourly: 6, daily: 7}
    targets:
      - name: second-site
        repository: $SITE_REPO
        password: $(cat "$SITE/repo-password")
        rest_password: $(cat "$SITE/http-password")
        append_only: true
        ca_certificate: |
$(indent < "$SITE/ca.pem")
U
  rm -f "$d/seed.img"; truncate -s 2M "$d/seed.img"
  mkfs.vfat -n CIDATA "$d/seed.img" > /dev/null
  MTOOLS_SKIP_CHECK=1 mcopy -i "$d/seed.img" "$d/seed/meta-data" "$d/seed/user-data" ::/
}

# An OVF environment (DSP0243) on an ISO labelled "OVF ENV", as the ISO transport delivers it;
# its keys are read from the OVA's own ProductSection, so a renamed property fails here.
make_ovf_env() {  # make_ovf_env DIR OVF_DESCRIPTOR
  local d=$1
  mkdir -p "$d/ovf-env"
  python3 - "$2" "$d/ovf-env/ovf-env.xml" "$(cat "$RUN/id_admin.pub")" <<'PY'
import sys, xml.etree.ElementTree as ET
from xml.sax.saxutils import quoteattr
OVF = "http://schemas.dmtf.org/ovf/envelope/1"
keys = {p.get(f"{{{OVF}}}key") for p in ET.parse(sys.argv[1]).iter(f"{{{OVF}}}Property")}
# the static address QEMU's user network would have leased, so the forwarded ports still reach it
values = {"hostname": "cantine-ovf", "public_url": "https://cantine-ovf.techniville.test",
          "ssh_authorized_key": sys.argv[3], "admin_networks": "10.0.2.0/24, 192.168.0.0/16",
          "ip_address": "10.0.2.15/24", "gateway": "10.0.2.2", "dns_servers": "10.0.2.3"}
missing = set(values) - keys
if missing:
    sys.exit(f"OVA descriptor lacks the properties {sorted(missing)}")
props = "".join(f'    <Property oe:key="{k}" oe:value={quoteattr(v)}/>\n' for k, v in values.items())
open(sys.argv[2], "w").write(
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<Environment xmlns="http://schemas.dmtf.org/ovf/environment/1"\n'
    '             xmlns:oe="http://schemas.dmtf.org/ovf/environment/1" oe:id="cantine">\n'
    f'  <PropertySection>\n{props}  </PropertySection>\n</Environment>\n')
PY
  genisoimage -quiet -V "OVF ENV" -J -r -o "$d/seed.img" "$d/ovf-env"
}

# boot NAME DISK FORMAT FIRMWARE(secureboot|plain) SEED(nocloud|nocloudtls|ovf|none) [ON_REBOOT]:
# starts qemu in the background. The serial console is logged to serial.log and offered on
# serial.sock. When the guest reboots, QEMU exits (a boot loop ends the boot instead of
# repeating), unless ON_REBOOT is "restart".
boot() {
  local name=$1 disk=$2 fmt=$3 fw=$4 seed=$5 d=$RUN/$1 code vars machine=q35 extra=()
  if [ "${6:-exit}" != restart ]; then extra+=(-no-reboot); fi
  mkdir -p "$d"
  case $seed in
    nocloud*) make_seed "$d" "test-$name" "${seed#nocloud}"; extra+=(-drive "file=$d/seed.img,format=raw,if=virtio,readonly=on") ;;
    ovf) make_ovf_env "$d" "$RUN/ova/$N.ovf"; extra+=(-cdrom "$d/seed.img") ;;
  esac
  # a fresh, larger overlay: the image stays untouched and first boot has to grow the disk
  qemu-img create -q -f qcow2 -F "$fmt" -b "$disk" "$d/disk.qcow2" 6G
  if [ "$fw" = secureboot ]; then
    code=/usr/share/OVMF/OVMF_CODE_4M.ms.fd vars=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
    machine=q35,smm=on; extra+=(-global "driver=cfi.pflash01,property=secure,value=on")
  else
    code=/usr/share/OVMF/OVMF_CODE_4M.fd vars=/usr/share/OVMF/OVMF_VARS_4M.fd
  fi
  cp "$vars" "$d/vars.fd"
  : > "$d/serial.log"
  P443=$(free_port); P80=$(free_port); P22=$(free_port); P9443=$(free_port)
  export P443 P80 P22 P9443   # for the exported helpers (vssh) in `bash -c` checks
  echo "$name: $fmt, $fw firmware, seed $seed: https://127.0.0.1:$P443 http :$P80 ssh :$P22 metrics :$P9443" | tee "$d/ports.txt"
  T0=$(date +%s.%N)
  nice qemu-system-x86_64 -machine "$machine" -accel tcg -m 2048 -smp 2 "${extra[@]}" \
    -drive if=pflash,format=raw,unit=0,readonly=on,file="$code" \
    -drive if=pflash,format=raw,unit=1,file="$d/vars.fd" \
    -drive file="$d/disk.qcow2",format=qcow2,if=virtio \
    -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$P443-:443,hostfwd=tcp:127.0.0.1:$P80-:80,hostfwd=tcp:127.0.0.1:$P22-:22,hostfwd=tcp:127.0.0.1:$P9443-:9443" \
    -device virtio-net-pci,netdev=n0 \
    -chardev "socket,id=ser0,path=$d/serial.sock,server=on,wait=off,logfile=$d/serial.log" \
    -serial chardev:ser0 -display none -monitor none > "$d/qemu.out" 2>&1 &
  QPID=$!
  D=$d
}
since() { echo "$(date +%s.%N) $T0" | awk '{printf "%.1f", $1 - $2}'; }
ev() { printf '%7s s  %s\n' "$(since)" "$*" | tee -a "$D/events.txt"; }
vssh() { ssh -q -i "$RUN/id_admin" -p "$P22" -o BatchMode=yes -o ConnectTimeout=10 \
  -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null admin@127.0.0.1 "$@"; }
https() { curl -sk -m 10 "$@"; }
# checks written as `bash -c '...'` use these too
export -f vssh site_restic
export RUN SITE

diagnose() {
  echo "---- serial console (last 60 lines) ----"; tail -n 60 "$D/serial.log" | tr -d '\r'
  echo "---- qemu ----"; cat "$D/qemu.out"
  # whether SSH answers at all: a refusal is the answer, not an error to show
  if vssh true 2>/dev/null; then
    echo "---- systemctl --failed ----"; vssh systemctl --failed --no-pager
    echo "---- journal: first boot, cantine, nginx ----"
    vssh sudo journalctl -b --no-pager -n 80 -u cantine-firstboot-early -u cantine-firstboot -u cantine -u nginx
  fi
}

# wait_ready: until /readyz answers 200 over HTTPS, or the timeout; records the milestones
wait_ready() {
  local seen_welcome='' seen_setup='' seen_fb='' code
  SECONDS=0
  while :; do
    if ! kill -0 "$QPID" 2>/dev/null; then ev "qemu exited"; return 1; fi
    if [ -z "$seen_welcome" ] && grep -qa 'Welcome to' "$D/serial.log"; then seen_welcome=1; ev "systemd started (serial)"; fi
    if [ -z "$seen_fb" ] && grep -qa 'first boot finished' "$D/serial.log"; then
      seen_fb=1; ev "first-boot setup finished: $(grep -ao 'first boot finished in [0-9.]* s' "$D/serial.log" | head -n1)"
    fi
    code=$(https -o "$D/readyz.body" -w '%{http_code}' "https://127.0.0.1:$P443/readyz")
    if [ -z "$seen_setup" ] && [ "$code" = 503 ] && grep -q 'Installation en cours' "$D/readyz.body"; then
      seen_setup=1; ev "HTTPS answers with the setting-up page"
    fi
    if [ "$code" = 200 ]; then ev "/readyz 200"; READY_AT=$(since); return 0; fi
    if [ "$SECONDS" -ge "$BOOT_TIMEOUT" ]; then ev "TIMEOUT: /readyz last answered '$code'"; return 1; fi
    sleep 2
  done
}

# s_client's stderr is its handshake chatter; a failed handshake leaves the fingerprint empty,
# which the checks using it catch
tls_fingerprint() { echo | openssl s_client -connect "127.0.0.1:$P443" 2>/dev/null | openssl x509 -noout -fingerprint -sha256; }

identity() {  # what must differ between two first boots
  {
    echo "machine-id $(vssh cat /etc/machine-id)"
    # (ssh-keyscan's stderr is its "# host:port SSH-2.0-..." comments; no key leaves it empty)
    echo "ssh-host-key $(ssh-keyscan -p "$P22" -t ed25519 127.0.0.1 2>/dev/null | awk '{print $3}')"
    echo "tls-cert $(tls_fingerprint)"
    echo "pg-system-id $(vssh "sudo -u postgres psql -Atc 'select system_identifier from pg_control_system()'")"
    vssh sudo sha256sum /etc/cantine/secrets/db-password /etc/cantine/secrets/health-data-key \
      | awk '{print "secret-" $2, $1}'
  } > "$D/identity.txt"
}

ssh_banner() {  # the first bytes the guest's SSH server sends, or nothing within 15 s
  # (a refused or filtered connection is an answer here: the firewall checks expect it)
  timeout 15 bash -c "exec 3<>/dev/tcp/127.0.0.1/$P22 && head -c 7 <&3" 2>/dev/null
}

esp_mounted() {  # findmnt /boot/efi: the image's ESP, by its UUID, vfat, umask=0077
  local m
  m=$(vssh findmnt -n -r -o PARTUUID,UUID,FSTYPE,OPTIONS /boot/efi) || { echo "nothing mounted at /boot/efi"; return 1; }
  echo "$m"
  vssh grep -E "'^UUID=$ESP_UUID /boot/efi vfat umask=0077,nofail '" /etc/fstab &&
    echo "$m" | grep -q "^$ESP_PARTUUID $ESP_UUID vfat " &&
    echo "$m" | grep -q 'fmask=0077' && echo "$m" | grep -q 'dmask=0077'
}

# What a shim or GRUB security update does, through Debian's own path: shim-signed's postinst
# runs grub-install (with --force-extra-removable --no-nvram from debconf). A shim that differs
# from its package, on both paths, is written back, and the ESP is left exactly as the image
# was built: the same files, the package's binaries, the same EFI/debian/grub.cfg.
esp_reinstall() {
  vssh sudo sh -s <<'SH'
set -eu
cd /boot/efi
find . -type f | sort > /tmp/esp.files
cp EFI/debian/grub.cfg /tmp/esp.grub.cfg
echo damaged > EFI/BOOT/BOOTX64.EFI
echo damaged > EFI/debian/shimx64.efi
export DEBIAN_FRONTEND=noninteractive
log=/tmp/reinstall.log
# (the mirror is the one the image was built from, as for unattended-upgrades)
retry='-o Acquire::Retries=3'
{ apt-get update -q $retry && apt-get install -y -q $retry --reinstall shim-signed grub-efi-amd64-signed; } \
  > $log 2>&1 || { tail -n 20 $log; exit 1; }
grep -E 'grub-install|Installing for|Installation finished' $log
if grep 'Failed: grub-install' $log; then exit 1; fi
grep -q 'Installation finished. No error reported' $log
shim=/usr/lib/shim/shimx64.efi.signed grub=/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed
cmp EFI/BOOT/BOOTX64.EFI $shim; cmp EFI/debian/shimx64.efi $shim
cmp EFI/BOOT/grubx64.efi $grub; cmp EFI/debian/grubx64.efi $grub
find . -type f | sort | diff /tmp/esp.files -
diff /tmp/esp.grub.cfg EFI/debian/grub.cfg
SH
}

# What a kernel update runs (/etc/kernel/postinst.d/zz-update-grub): the menu it writes boots
# the installed kernel by its name, with the serial console of /etc/default/grub.
update_grub() {
  vssh sudo sh -s "$ROOT_UUID" "'$KERNEL_CONSOLES'" <<'SH'
set -eu
update-grub > /tmp/update-grub.log 2>&1 || { cat /tmp/update-grub.log; exit 1; }
cat /tmp/update-grub.log
grep -E "^[[:space:]]+linux[[:space:]]+/boot/vmlinuz-$(uname -r) root=UUID=$1 ro $2 quiet\$" /boot/grub/grub.cfg | head -n 1
SH
}

# Reboots the guest (booted with ON_REBOOT restart) and waits for the new boot to serve: the
# firmware, shim and GRUB as they are on the ESP now, and the menu update-grub wrote.
reboot_secure() {
  local before id
  before=$(vssh cat /proc/sys/kernel/random/boot_id) || return 1
  # (the reboot cuts the SSH connection: ssh exits 255)
  vssh sudo systemctl reboot || true
  SECONDS=0
  until id=$(vssh cat /proc/sys/kernel/random/boot_id 2>/dev/null) && [ -n "$id" ] && [ "$id" != "$before" ]; do
    if ! kill -0 "$QPID" 2>/dev/null; then echo "qemu exited"; return 1; fi
    if [ "$SECONDS" -ge "$BOOT_TIMEOUT" ]; then echo "no new boot within ${BOOT_TIMEOUT}s"; return 1; fi
    sleep 3
  done
  until [ "$(https -o /dev/null -w '%{http_code}' "https://127.0.0.1:$P443/readyz")" = 200 ]; do
    if [ "$SECONDS" -ge "$BOOT_TIMEOUT" ]; then echo "/readyz not 200 within ${BOOT_TIMEOUT}s"; return 1; fi
    sleep 2
  done
  ev "rebooted: /readyz 200 ${SECONDS}s after the reboot"
  vssh cat /proc/cmdline
  vssh grep -q 'BOOT_IMAGE=/boot/vmlinuz-' /proc/cmdline &&
    vssh mokutil --sb-state | grep 'SecureBoot enabled' &&
    esp_mounted
}

# The health-data key as first boot writes it, and read by cantine.service under its own sandbox
# (User=cantine, PrivateUsers=yes, ProtectSystem=strict): the service reads it at start and
# refuses to run without it, so with the key unreadable it must not start, and once readable
# again it serves. The mode is restored however the check ends.
health_key_read_by_service() {
  vssh sudo sh -s <<'SH' || return 1
set -eu
k=/etc/cantine/secrets/health-data-key
echo "$(stat -c '%a %U:%G' $k) $(wc -c < $k) bytes"
test "$(stat -c '%a %U:%G' $k)" = "640 root:cantine"
grep -qxE '[0-9a-f]{64}' $k
test ! -e /etc/cantine/secrets/session-key
systemctl is-active --quiet cantine
trap 'chmod 0640 $k; systemctl restart cantine' EXIT
chmod 0600 $k
since=$(date +%s)
systemctl restart cantine
for _ in $(seq 30); do
  if journalctl -u cantine -o cat --since "@$since" | grep health_data_key_file | grep -q 'cannot read'; then
    journalctl -u cantine -o cat --since "@$since" | grep -m1 health_data_key_file
    exit 0
  fi
  sleep 1
done
echo "cantine.service did not refuse an unreadable health-data key:"
journalctl -u cantine -o cat --since "@$since" | tail -n 5
exit 1
SH
  for _ in $(seq 60); do
    [ "$(https -o /dev/null -w '%{http_code}' "https://127.0.0.1:$P443/readyz")" = 200 ] && return 0
    sleep 2
  done
  echo "/readyz not 200 after the key was readable again"; return 1
}

no_failed_units() {  # no_failed_units PREFIX: once the boot has settled
  vssh 'timeout 180 systemctl is-system-running --wait' > "$D/system-state.txt" 2>&1
  if ! vssh systemctl --failed --no-legend --plain > "$D/failed.txt" 2>&1; then
    bad "${1}systemctl --failed could not be asked over SSH: $(tr '\n' ' ' < "$D/failed.txt")"
  elif [ -s "$D/failed.txt" ]; then bad "${1}systemctl --failed is empty: $(tr '\n' ' ' < "$D/failed.txt")"
  else ok "${1}systemctl --failed is empty ($(tr -d '\n' < "$D/system-state.txt"))"; fi
}

# After the demo data exists: the packaged timers and services, and what reached the host.
backup_checks() {
  local m=https://127.0.0.1:$P9443
  check "backup repositories created at first boot (cantine-backup-init)" vssh systemctl is-active --quiet cantine-backup-init.service
  check "backup, check and drill timers active" vssh systemctl is-active --quiet cantine-backup.timer cantine-backup-check.timer cantine-backup-drill.timer
  check "cantine-backup.service: local and second-site snapshots" vssh sudo systemctl start cantine-backup.service
  check "second site holds the appliance's snapshot (restic CLI on the host)" bash -c \
    "site_restic snapshots --no-lock --json | python3 -c 'import json, sys; sys.exit(not any(s[\"hostname\"] == \"cantine-test\" for s in json.load(sys.stdin)))'"
  check "the snapshot's database dump is a pg_dump archive with the demo data" bash -c \
    "site_restic dump --no-lock latest /cantine/db.dump > $SITE/db.dump && $PG_RESTORE --list $SITE/db.dump | grep -q 'TABLE DATA public'"
  check "the snapshot holds the configuration and its first-boot drop-in" bash -c \
    "site_restic ls --no-lock latest | grep -q '/cantine/config/cantine.toml.d/50-backup.toml'"
  check "second site is append-only: deleting the repository's key is refused" site_refuses_delete
  check "cantine-backup-check.service succeeds" vssh sudo systemctl start cantine-backup-check.service
  check "cantine-backup-drill.service restores into a scratch database" vssh sudo systemctl start cantine-backup-drill.service
  check "/metrics: last backup succeeded on both targets" bash -c \
    "curl -sk -m 10 $m/metrics > $D/metrics.txt; grep -q '^cantine_backup_last_run_success{target=\"local\"} 1' $D/metrics.txt && grep -q '^cantine_backup_last_run_success{target=\"second-site\"} 1' $D/metrics.txt"
  check "/metrics: restore drill succeeded" bash -c "grep -q '^cantine_backup_drill_last_run_success{[^}]*} 1' $D/metrics.txt"
}

full_checks() {
  local b=https://127.0.0.1:$P443 m=https://127.0.0.1:$P9443
  check "/readyz 200 over HTTPS ($READY_AT s after qemu start)" true
  check "/healthz 200" test "$(https -o /dev/null -w '%{http_code}' "$b/healthz")" = 200
  check "while first-boot setup is not done, HTTPS serves the setting-up page (503)" bash -c \
    "vssh sudo mv /var/lib/cantine-setup/done /var/lib/cantine-setup/done.test &&
     curl -sk -m 10 -o $D/setup.body -w '%{http_code}' $b/ > $D/setup.code;
     vssh sudo mv /var/lib/cantine-setup/done.test /var/lib/cantine-setup/done &&
     [ \$(cat $D/setup.code) = 503 ] && grep -q 'Installation en cours' $D/setup.body &&
     [ \$(curl -sk -m 10 -o /dev/null -w '%{http_code}' $b/readyz) = 200 ]"
  check "port 80 redirects to https" bash -c "curl -s -m 10 -o /dev/null -w '%{http_code} %{redirect_url}' http://127.0.0.1:$P80/ | grep -q '^301 https://'"
  check "/metrics not public on 443" test "$(https -o /dev/null -w '%{http_code}' "$b/metrics")" = 404
  check "app /metrics on the metrics port" bash -c "curl -sk -m 10 -f $m/metrics | grep -q '^# \(HELP\|TYPE\)'"
  check "node exporter answers" bash -c "curl -sk -m 20 -f $m/node/metrics | grep -q '^node_uname_info'"
  check "postgres exporter answers, pg_up 1" bash -c "curl -sk -m 20 -f $m/postgres/metrics | grep -q '^pg_up 1'"
  check "admin SSH login with the seed's key" vssh true
  no_failed_units ""
  check "the ESP is mounted at /boot/efi (vfat, umask=0077, by UUID, nofail)" esp_mounted
  check "hostname from the seed" test "$(vssh hostname)" = cantine-test
  check "root filesystem grown to the 6 GiB disk" bash -c "[ \$(vssh df -B1M --output=size / | tail -n1) -gt 5000 ]"
  check "PostgreSQL listens, on loopback only" bash -c "vssh ss -Hltn 'sport = :5432' > $D/pg-listen.txt && [ -s $D/pg-listen.txt ] &&
    ! awk '{print \$4}' $D/pg-listen.txt | grep -qv -e '^127.0.0.1:' -e '^\[::1\]:'"
  # shellcheck disable=SC2016  # $(systemctl ...) is for the guest's shell
  check "cantine runs as its own unprivileged user" test "$(vssh 'stat -c %U /proc/$(systemctl show -p MainPID --value cantine)')" = cantine
  check "journal is persistent" vssh test -d "/var/log/journal/\$(cat /etc/machine-id)"
  check "nftables ruleset loaded" vssh sudo nft list set inet filter admin4
  local pw; pw=$(openssl rand -hex 12)
  check "demo data seeded (cantine demo)" vssh "sudo -u cantine /usr/bin/cantine demo --password $pw"
  check "demo family logs in and books a meal over HTTPS" python3 "$IMAGE_DIR/scripts/demo-check.py" "$b" "$pw"
  backup_checks
  check "health-data key: 64 hex digits, root:cantine 0640 (no session key); cantine.service refuses to start when it cannot read it, and serves again when it can" \
    health_key_read_by_service
  vssh 'sudo journalctl -b -o cat -u cantine-firstboot-early -u cantine-firstboot' > "$D/firstboot.txt" 2>&1
  vssh 'systemd-analyze; systemd-analyze blame | head -n 12' > "$D/analyze.txt" 2>&1
  identity
}

# What is shipped, not the build's intermediate disk: the outputs match their sums, and the raw
# disk booted and compared below is the one in raw.zst.
built=unknown; if [ -f "$OUT_DIR/commit" ]; then built=$(cat "$OUT_DIR/commit"); fi
# (the test may run from an exported tree, which is no git checkout: then nothing to compare)
head=$(git -C "$IMAGE_DIR" rev-parse HEAD 2>/dev/null || echo unknown)
echo "testing the image built from $built"
[ "$built" = "$head" ] || echo "WARNING: HEAD is $head: run make image first to test it"
check "outputs match SHA256SUMS" bash -c "cd $OUT_DIR && sha256sum -c --quiet SHA256SUMS"
echo "decompressing $N.raw.zst"; zstd -q -d -f -o "$RUN/disk.raw" "$OUT_DIR/$N.raw.zst"; raw=$RUN/disk.raw
# pg_restore from PATH, else the newest of the installed PostgreSQL versions'
pg_restores=(/usr/lib/postgresql/*/bin/pg_restore)
PG_RESTORE=$(command -v pg_restore) || PG_RESTORE=${pg_restores[-1]}
mkdir -p "$RUN/ova"; tar -xf "$OUT_DIR/$N.ova" -C "$RUN/ova"
start_second_site

stop_vm() {
  # poweroff cuts the SSH connection (ssh exits 255), and QEMU exits with the guest (-no-reboot)
  # unless it is stuck: both outcomes are expected, the kill is for the second
  vssh sudo poweroff >/dev/null 2>&1; sleep 5; kill "$QPID" 2>/dev/null; wait "$QPID"; QPID=
}

echo "== boot 1: qcow2, Secure Boot firmware with Microsoft keys, NoCloud seed"
boot sb "$OUT_DIR/$N.qcow2" qcow2 secureboot nocloud restart
if wait_ready; then
  full_checks
  check "Secure Boot is enabled in the guest" bash -c "vssh mokutil --sb-state | grep -q 'SecureBoot enabled'"
  cp "$D/identity.txt" "$RUN/identity-1.txt"
  check "apt-get install --reinstall shim-signed grub-efi-amd64-signed puts back a shim that differs from its package (grub-install, both paths), and leaves the ESP as built" esp_reinstall
  check "update-grub (as a kernel update runs it) writes a menu with the installed kernel and the serial console" update_grub
  check "after the reinstall and update-grub, a reboot: the new menu boots, Secure Boot on, the ESP mounted, /readyz 200" reboot_secure
  no_failed_units "after the reboot: "
else
  bad "boot 1 (qcow2, Secure Boot): /readyz 200 within ${BOOT_TIMEOUT}s"; diagnose
fi
stop_vm

echo "== boot 2: raw, plain OVMF, second first boot of the same image with the same seed"
boot plain "$raw" raw plain nocloudtls
if wait_ready; then
  check "boot 2: /readyz 200 ($READY_AT s after qemu start)" true
  no_failed_units "boot 2: "
  check "boot 2: HTTPS serves the seed's certificate (verified with its CA)" \
    curl -sf -m 10 -o /dev/null --cacert "$SITE/ca.pem" --connect-to "cantine-test.techniville.test:443:127.0.0.1:$P443" https://cantine-test.techniville.test/readyz
  check "boot 2: the second site's existing repository is opened, not created again" bash -c \
    "vssh sudo journalctl -b -o cat -u cantine-backup-init | grep -q 'second-site: repository .* already existed'"
  check "boot 2: the seed's SMTP relay is configured, its password kept out of the configuration" bash -c \
    "vssh sudo -u cantine /usr/bin/cantine check-config --config /etc/cantine/cantine.toml > $D/check-config.txt &&
     grep -qx 'mail.smtp_url = smtp://cantine:\*\**@mail.techniville.test:587' $D/check-config.txt &&
     grep -qx 'mail.from = Cantine de Techniville <cantine@techniville.test>' $D/check-config.txt &&
     vssh sudo grep -q relay-secret /etc/cantine/secrets/smtp.password &&
     ! vssh sudo grep -rq relay-secret /etc/cantine/cantine.toml /etc/cantine/cantine.toml.d"
  identity
  if [ -f "$RUN/identity-1.txt" ]; then
    # keys whose value is the same in both boots, or empty
    same=$(awk 'NR == FNR {k = $1; $1 = ""; a[k] = $0; next}
                {k = $1; $1 = ""; if (!(k in a) || a[k] == $0 || $0 ~ /^ *$/) print k}' \
           "$RUN/identity-1.txt" "$D/identity.txt" | tr '\n' ' ')
    if [ -z "$same" ] && [ "$(wc -l < "$D/identity.txt")" -ge 6 ]; then ok "machine-id, host key, TLS cert, PG system id and secrets differ between two first boots"
    else bad "identical between two first boots (or missing): $same"; fi
  fi
  # Last, as it cuts the test's own access: with no administration network left, SSH and the
  # metrics port are closed (probed by protocol: SSH banner, TLS handshake) and 443 is not.
  # (the banner, not ssh-keyscan: its parallel key exchanges time out under emulation)
  check "boot 2: SSH banner on the forwarded port before the firewall test" test "$(ssh_banner)" = SSH-2.0
  vssh "sudo nft flush set inet filter admin4 && sudo nft flush set inet filter admin6" || bad "boot 2: could not empty the administration networks"
  check "boot 2: from outside the administration networks, no SSH banner" test -z "$(ssh_banner)"
  check "boot 2: from outside the administration networks, no metrics port" bash -c "! curl -sk -m 8 -o /dev/null https://127.0.0.1:$P9443/metrics"
  check "boot 2: the web port still answers" test "$(https -o /dev/null -w '%{http_code}' "https://127.0.0.1:$P443/readyz")" = 200
else
  bad "boot 2 (raw, plain OVMF): /readyz 200 within ${BOOT_TIMEOUT}s"; diagnose
fi
stop_vm

echo "== boot 3: the OVA's VMDK, Secure Boot, settings from an OVF environment"
boot ova "$RUN/ova/$N-disk1.vmdk" vmdk secureboot ovf
if wait_ready; then
  check "boot 3: /readyz 200 ($READY_AT s after qemu start)" true
  check "boot 3: admin SSH login with the OVF property's key" vssh true
  check "boot 3: hostname from the OVF environment" test "$(vssh hostname)" = cantine-ovf
  check "boot 3: public URL from the OVF environment" bash -c "vssh sudo cat /etc/cantine/cantine.env | grep -qx 'CANTINE_PUBLIC_URL=https://cantine-ovf.techniville.test'"
  check "boot 3: administration networks from the OVF environment" bash -c "vssh sudo nft list set inet filter admin4 | grep -q '10.0.2.0/24'"
  check "boot 3: static address (not leased), gateway and DNS from the OVF environment" bash -c \
    "vssh ip -4 -o addr show scope global | tee $D/addr.txt | grep 'inet 10.0.2.15/24' | grep -vq dynamic \
     && vssh ip -4 route show default | grep -q 'via 10.0.2.2' && vssh resolvectl dns | grep -q 10.0.2.3 \
     && vssh test ! -e /etc/systemd/network/20-wired.network"
  # boot 2 had the seed's certificate: compare this self-signed one with boot 1's
  fp=$(tls_fingerprint)
  check "boot 3: its self-signed TLS certificate differs from boot 1's" \
    bash -c "[ -n '$fp' ] && grep -q '^tls-cert .' $RUN/identity-1.txt && ! grep -qF '$fp' $RUN/identity-1.txt"
  no_failed_units "boot 3: "
else
  bad "boot 3 (VMDK, OVF environment): /readyz 200 within ${BOOT_TIMEOUT}s"; diagnose
fi
stop_vm

echo "== boot 4: VHDX, no seed: the console wizard over the serial console"
boot wizard "$OUT_DIR/$N.vhdx" vhdx plain none
if wait_ready; then
  check "boot 4: /readyz 200 without any seed ($READY_AT s after qemu start)" true
  admin_pw=$(openssl rand -hex 8)
  check "boot 4: console wizard answered on the serial console, login prompt follows" \
    python3 "$IMAGE_DIR/scripts/console-wizard.py" "$D/serial.sock" "$D/serial.log" cantine-console \
      https://cantine-console.techniville.test 10.0.2.0/24 "$RUN/id_admin.pub" "$admin_pw"
  check "boot 4: admin SSH login with the key given to the wizard" vssh true
  check "boot 4: hostname from the wizard" test "$(vssh hostname)" = cantine-console
  check "boot 4: public URL and sudo with the wizard's password" bash -c \
    "echo $admin_pw | vssh sudo -S cat /etc/cantine/cantine.env | grep -qx 'CANTINE_PUBLIC_URL=https://cantine-console.techniville.test'"
  check "boot 4: the service answers again after the wizard restarted it" bash -c \
    "for i in \$(seq 60); do [ \"\$(curl -sk -m 5 -o /dev/null -w '%{http_code}' https://127.0.0.1:$P443/readyz)\" = 200 ] && exit 0; sleep 2; done; exit 1"
  no_failed_units "boot 4: "
else
  bad "boot 4 (VHDX, no seed): /readyz 200 within ${BOOT_TIMEOUT}s"; diagnose
fi
stop_vm

echo "== boot 5: the OVA converted by virt-v2v (VMware to KVM), Secure Boot, NoCloud seed"
# As an IT team would run it (image/README.md), with the emulation settings of this host.
V2V=$RUN/virt-v2v
convert_ova() {
  local t0=$SECONDS
  mkdir -p "$V2V"
  LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg \
    nice virt-v2v -i ova "$OUT_DIR/$N.ova" -o local -os "$V2V" -of qcow2 -on cantine-v2v > "$V2V/virt-v2v.log" 2>&1
  local rc=$?
  echo "virt-v2v: exit $rc after $((SECONDS - t0)) s" | tee "$V2V/time.txt"
  grep -i 'warning' "$V2V/virt-v2v.log"
  [ "$rc" = 0 ] || { tail -n 20 "$V2V/virt-v2v.log"; return 1; }
}
check "virt-v2v converts the OVA without error" convert_ova
check "virt-v2v's libvirt description: UEFI firmware, the disk on virtio" bash -c \
  "grep -Eq \"<os firmware='efi'>|<loader[^>]*pflash\" $V2V/cantine-v2v.xml && grep -q \"<target dev='vda' bus='virtio'/>\" $V2V/cantine-v2v.xml"
if [ -f "$V2V/cantine-v2v-sda" ]; then
  boot v2v "$V2V/cantine-v2v-sda" qcow2 secureboot nocloud
  if wait_ready; then
    check "boot 5: /readyz 200 ($READY_AT s after qemu start)" true
    check "boot 5: Secure Boot is enabled" bash -c "vssh mokutil --sb-state | grep -q 'SecureBoot enabled'"
    check "boot 5: the ESP is mounted at /boot/efi" esp_mounted
    no_failed_units "boot 5: "
  else
    bad "boot 5 (converted by virt-v2v): /readyz 200 within ${BOOT_TIMEOUT}s"; diagnose
  fi
  stop_vm
else
  bad "boot 5: virt-v2v left no disk to boot"
fi
kill "$SITE_PID"; wait "$SITE_PID"; SITE_PID=

echo "== other formats: same disk contents as the raw image"
check "OVA manifest matches its files" bash -c "cd $RUN/ova && sed -E 's/^SHA256\((.*)\)= (.*)$/\2  \1/' $N.mf | sha256sum -c --quiet"
check "OVA descriptor is well-formed XML with the real capacity and the guestInfo transport" python3 -c "
import sys, xml.etree.ElementTree as ET
ns = '{http://schemas.dmtf.org/ovf/envelope/1}'
root = ET.parse('$RUN/ova/$N.ovf').getroot()
d = root.find(f'.//{ns}Disk')
hw = root.find(f'.//{ns}VirtualHardwareSection')
sys.exit(int(d.get(f'{ns}capacity')) != $(stat -c %s "$raw") or 'com.vmware.guestInfo' not in hw.get(f'{ns}transport', ''))"
check "VMDK (streamOptimized, in the OVA) has the raw disk's contents" nice qemu-img compare -q -f raw -F vmdk "$raw" "$RUN/ova/$N-disk1.vmdk"
check "VHDX has the raw disk's contents" nice qemu-img compare -q -f raw -F vhdx "$raw" "$OUT_DIR/$N.vhdx"
check "qcow2 has the raw disk's contents" nice qemu-img compare -q -f raw -F qcow2 "$raw" "$OUT_DIR/$N.qcow2"

echo "== timings (seconds after QEMU started)"
for b in sb plain ova wizard v2v; do [ -f "$RUN/$b/events.txt" ] && sed "s/^/$b /" "$RUN/$b/events.txt"; done
[ -f "$V2V/time.txt" ] && cat "$V2V/time.txt"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
