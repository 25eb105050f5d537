#!/bin/bash
# Boot test of the appliance under QEMU (TCG, q35, OVMF) with a NoCloud seed and user-mode
# networking forwarded to loopback ports. Every probe speaks the service's own protocol (HTTPS,
# SSH): a bare TCP connect to a forwarded port succeeds even when nothing listens in the guest.
#
# Boot 1: the qcow2 with OVMF's Secure Boot firmware and Microsoft keys (Debian's signed shim,
#         GRUB and kernel), the disk grown to 6 GiB: full checks.
# Boot 2: the raw disk with plain OVMF: a second first boot of the same image, whose secrets,
#         keys and identifiers must all differ from boot 1's.
# The VMDK (from the OVA) and the VHDX are compared block for block with the raw disk.
set -uo pipefail
: "${IMAGE_DIR:?}" "${OUT_DIR:?}" "${BUILD_DIR:?}"
RUN=${TEST_DIR:-$IMAGE_DIR/test-run}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-420}   # seconds from qemu start to /readyz 200
N=cantine
rm -rf "$RUN"; mkdir -p "$RUN"
pass=0 fail=0
ok()   { pass=$((pass + 1)); echo "  ok    $*" | tee -a "$RUN/results.txt"; }
bad()  { fail=$((fail + 1)); echo "  FAIL  $*" | tee -a "$RUN/results.txt"; }
check() {  # check DESCRIPTION COMMAND...: on failure, the command's last output lines are shown
  local what=$1 out; shift
  if out=$("$@" 2>&1); then ok "$what"; else bad "$what"; printf '%s\n' "$out" | tail -n 5 | sed 's/^/          /'; fi
  printf '== %s\n%s\n' "$what" "$out" >> "$RUN/checks.log"
}
QPID=
cleanup() { [ -n "$QPID" ] && kill "$QPID" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

ssh-keygen -q -t ed25519 -N '' -C image-test -f "$RUN/id_admin"

make_seed() {  # make_seed DIR INSTANCE
  local d=$1
  mkdir -p "$d/seed"
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
U
  rm -f "$d/seed.img"; truncate -s 2M "$d/seed.img"
  mkfs.vfat -n CIDATA "$d/seed.img" > /dev/null
  MTOOLS_SKIP_CHECK=1 mcopy -i "$d/seed.img" "$d/seed/meta-data" "$d/seed/user-data" ::/
}

# boot NAME DISK FORMAT FIRMWARE(secureboot|plain): starts qemu in the background
boot() {
  local name=$1 disk=$2 fmt=$3 fw=$4 d=$RUN/$1 code vars machine=q35 extra=()
  mkdir -p "$d"
  make_seed "$d" "test-$name"
  # a fresh, larger overlay: the image stays untouched and first boot has to grow the disk
  qemu-img create -q -f qcow2 -F "$fmt" -b "$disk" "$d/disk.qcow2" 6G
  if [ "$fw" = secureboot ]; then
    code=/usr/share/OVMF/OVMF_CODE_4M.ms.fd vars=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
    machine=q35,smm=on; extra=(-global driver=cfi.pflash01,property=secure,value=on)
  else
    code=/usr/share/OVMF/OVMF_CODE_4M.fd vars=/usr/share/OVMF/OVMF_VARS_4M.fd
  fi
  cp "$vars" "$d/vars.fd"
  : > "$d/serial.log"
  P443=$(free_port); P80=$(free_port); P22=$(free_port); P9443=$(free_port)
  echo "$name: https://127.0.0.1:$P443 http :$P80 ssh :$P22 metrics :$P9443" | tee "$d/ports.txt"
  T0=$(date +%s.%N)
  nice qemu-system-x86_64 -machine "$machine" -accel tcg -m 2048 -smp 2 "${extra[@]}" \
    -drive if=pflash,format=raw,unit=0,readonly=on,file="$code" \
    -drive if=pflash,format=raw,unit=1,file="$d/vars.fd" \
    -drive file="$d/disk.qcow2",format=qcow2,if=virtio \
    -drive file="$d/seed.img",format=raw,if=virtio,readonly=on \
    -netdev user,id=n0,hostfwd=tcp:127.0.0.1:$P443-:443,hostfwd=tcp:127.0.0.1:$P80-:80,hostfwd=tcp:127.0.0.1:$P22-:22,hostfwd=tcp:127.0.0.1:$P9443-:9443 \
    -device virtio-net-pci,netdev=n0 \
    -display none -serial file:"$d/serial.log" -monitor none -no-reboot > "$d/qemu.out" 2>&1 &
  QPID=$!
  D=$d
}
since() { echo "$(date +%s.%N) $T0" | awk '{printf "%.1f", $1 - $2}'; }
ev() { printf '%7s s  %s\n' "$(since)" "$*" | tee -a "$D/events.txt"; }
vssh() { ssh -q -i "$RUN/id_admin" -p "$P22" -o BatchMode=yes -o ConnectTimeout=10 \
  -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null admin@127.0.0.1 "$@"; }
https() { curl -sk -m 10 "$@"; }

diagnose() {
  echo "---- serial console (last 60 lines) ----"; tail -n 60 "$D/serial.log" | tr -d '\r'
  echo "---- qemu ----"; cat "$D/qemu.out"
  if vssh true 2>/dev/null; then
    echo "---- systemctl --failed ----"; vssh systemctl --failed --no-pager
    echo "---- journal: first boot, cantine, nginx ----"
    vssh sudo journalctl -b --no-pager -n 80 -u cantine-firstboot-early -u cantine-firstboot -u cantine -u nginx
  fi
}

# wait_ready: until /readyz answers 200 over HTTPS, or the timeout; records the milestones
wait_ready() {
  local seen_welcome= seen_setup= seen_fb= code
  SECONDS=0
  while :; do
    if ! kill -0 "$QPID" 2>/dev/null; then ev "qemu exited"; return 1; fi
    if [ -z "$seen_welcome" ] && grep -qa 'Welcome to' "$D/serial.log"; then seen_welcome=1; ev "systemd started (serial)"; fi
    if [ -z "$seen_fb" ] && grep -qa 'first boot finished' "$D/serial.log"; then
      seen_fb=1; ev "first-boot setup finished: $(grep -ao 'first boot finished in [0-9.]* s' "$D/serial.log" | head -n1)"
    fi
    code=$(https -o "$D/readyz.body" -w '%{http_code}' "https://127.0.0.1:$P443/readyz" 2>/dev/null)
    if [ -z "$seen_setup" ] && [ "$code" = 503 ] && grep -q 'Installation en cours' "$D/readyz.body"; then
      seen_setup=1; ev "HTTPS answers with the setting-up page"
    fi
    if [ "$code" = 200 ]; then ev "/readyz 200"; READY_AT=$(since); return 0; fi
    if [ "$SECONDS" -ge "$BOOT_TIMEOUT" ]; then ev "TIMEOUT: /readyz last answered '$code'"; return 1; fi
    sleep 2
  done
}

identity() {  # what must differ between two first boots
  {
    echo "machine-id $(vssh cat /etc/machine-id)"
    echo "ssh-host-key $(ssh-keyscan -p "$P22" -t ed25519 127.0.0.1 2>/dev/null | awk '{print $3}')"
    echo "tls-cert $(echo | openssl s_client -connect "127.0.0.1:$P443" 2>/dev/null | openssl x509 -noout -fingerprint -sha256)"
    echo "pg-system-id $(vssh "sudo -u postgres psql -Atc 'select system_identifier from pg_control_system()'")"
    vssh sudo sha256sum /etc/cantine/secrets/db-password /etc/cantine/secrets/session-key /etc/cantine/secrets/health-data-key \
      | awk '{print "secret-" $2, $1}'
  } > "$D/identity.txt"
}

full_checks() {
  local b=https://127.0.0.1:$P443 m=https://127.0.0.1:$P9443
  check "/readyz 200 over HTTPS ($READY_AT s after qemu start)" true
  check "/healthz 200" test "$(https -o /dev/null -w '%{http_code}' "$b/healthz")" = 200
  check "port 80 redirects to https" bash -c "curl -s -m 10 -o /dev/null -w '%{http_code} %{redirect_url}' http://127.0.0.1:$P80/ | grep -q '^301 https://'"
  check "/metrics not public on 443" test "$(https -o /dev/null -w '%{http_code}' "$b/metrics")" = 404
  check "app /metrics on the metrics port" bash -c "curl -sk -m 10 -f $m/metrics | grep -q '^# \(HELP\|TYPE\)'"
  check "node exporter answers" bash -c "curl -sk -m 20 -f $m/node/metrics | grep -q '^node_uname_info'"
  check "postgres exporter answers, pg_up 1" bash -c "curl -sk -m 20 -f $m/postgres/metrics | grep -q '^pg_up 1'"
  check "admin SSH login with the seed's key" vssh true
  vssh 'timeout 120 systemctl is-system-running --wait' > "$D/system-state.txt" 2>&1
  vssh systemctl --failed --no-legend --plain > "$D/failed.txt" 2>&1
  if [ -s "$D/failed.txt" ]; then bad "systemctl --failed is empty: $(tr '\n' ' ' < "$D/failed.txt")"; else ok "systemctl --failed is empty ($(cat "$D/system-state.txt"))"; fi
  check "hostname from the seed" test "$(vssh hostname)" = cantine-test
  check "root filesystem grown to the 6 GiB disk" bash -c "[ \$(ssh -q -i $RUN/id_admin -p $P22 -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null admin@127.0.0.1 df -B1M --output=size / | tail -n1) -gt 5000 ]"
  check "PostgreSQL listens on loopback only" bash -c "ssh -q -i $RUN/id_admin -p $P22 -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null admin@127.0.0.1 ss -Hltn 'sport = :5432' | awk '{print \$4}' | grep -qv -e '^127.0.0.1:' -e '^\[::1\]:' && exit 1 || exit 0"
  check "cantine runs as its own unprivileged user" test "$(vssh 'stat -c %U /proc/$(systemctl show -p MainPID --value cantine)')" = cantine
  check "journal is persistent" vssh test -d "/var/log/journal/\$(cat /etc/machine-id)"
  check "nftables ruleset loaded" vssh sudo nft list set inet filter admin4
  local pw; pw=$(openssl rand -hex 12)
  check "demo data seeded (cantine demo)" vssh "sudo -u cantine /usr/bin/cantine demo --password $pw"
  check "demo family logs in and books a meal over HTTPS" python3 "$IMAGE_DIR/scripts/demo-check.py" "$b" "$pw"
  vssh 'sudo journalctl -b -o cat -u cantine-firstboot-early -u cantine-firstboot' > "$D/firstboot.txt" 2>&1
  vssh 'systemd-analyze; systemd-analyze blame | head -n 12' > "$D/analyze.txt" 2>&1
  identity
}

raw=$BUILD_DIR/disk.raw
if [ ! -f "$raw" ]; then
  echo "decompressing $N.raw.zst"; zstd -q -d -f -o "$RUN/disk.raw" "$OUT_DIR/$N.raw.zst"; raw=$RUN/disk.raw
fi

echo "== boot 1: qcow2, Secure Boot firmware with Microsoft keys"
boot sb "$OUT_DIR/$N.qcow2" qcow2 secureboot
if wait_ready; then
  full_checks
  check "Secure Boot is enabled in the guest" bash -c "ssh -q -i $RUN/id_admin -p $P22 -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null admin@127.0.0.1 mokutil --sb-state | grep -q 'SecureBoot enabled'"
  cp "$D/identity.txt" "$RUN/identity-1.txt"
else
  bad "boot 1 (qcow2, Secure Boot): /readyz 200 within ${BOOT_TIMEOUT}s"; diagnose
fi
vssh sudo poweroff >/dev/null 2>&1; sleep 5; kill "$QPID" 2>/dev/null; wait "$QPID" 2>/dev/null; QPID=

echo "== boot 2: raw, plain OVMF, second first boot of the same image"
boot plain "$raw" raw plain
if wait_ready; then
  check "boot 2: /readyz 200 ($READY_AT s after qemu start)" true
  vssh systemctl --failed --no-legend --plain > "$D/failed.txt" 2>&1
  check "boot 2: systemctl --failed is empty" test ! -s "$D/failed.txt"
  identity
  if [ -f "$RUN/identity-1.txt" ]; then
    # keys whose value is the same in both boots, or empty
    same=$(awk 'NR == FNR {k = $1; $1 = ""; a[k] = $0; next}
                {k = $1; $1 = ""; if (!(k in a) || a[k] == $0 || $0 ~ /^ *$/) print k}' \
           "$RUN/identity-1.txt" "$D/identity.txt" | tr '\n' ' ')
    if [ -z "$same" ] && [ "$(wc -l < "$D/identity.txt")" -ge 7 ]; then ok "machine-id, host key, TLS cert, PG system id and secrets differ between two first boots"
    else bad "identical between two first boots (or missing): $same"; fi
  fi
else
  bad "boot 2 (raw, plain OVMF): /readyz 200 within ${BOOT_TIMEOUT}s"; diagnose
fi
vssh sudo poweroff >/dev/null 2>&1; sleep 5; kill "$QPID" 2>/dev/null; wait "$QPID" 2>/dev/null; QPID=

echo "== other formats: same disk contents as the raw image"
mkdir -p "$RUN/ova"; tar -xf "$OUT_DIR/$N.ova" -C "$RUN/ova"
check "OVA manifest matches its files" bash -c "cd $RUN/ova && sed -E 's/^SHA256\((.*)\)= (.*)$/\2  \1/' $N.mf | sha256sum -c --quiet"
check "OVA descriptor is well-formed XML with the real capacity" python3 -c "
import sys, xml.etree.ElementTree as ET
d = ET.parse('$RUN/ova/$N.ovf').getroot().find('.//{http://schemas.dmtf.org/ovf/envelope/1}Disk')
sys.exit(int(d.get('{http://schemas.dmtf.org/ovf/envelope/1}capacity')) != $(stat -c %s "$raw"))"
check "VMDK (streamOptimized, in the OVA) has the raw disk's contents" nice qemu-img compare -q -f raw -F vmdk "$raw" "$RUN/ova/$N-disk1.vmdk"
check "VHDX has the raw disk's contents" nice qemu-img compare -q -f raw -F vhdx "$raw" "$OUT_DIR/$N.vhdx"
check "qcow2 has the raw disk's contents" nice qemu-img compare -q -f raw -F qcow2 "$raw" "$OUT_DIR/$N.qcow2"

echo "== timings"; cat "$RUN"/*/events.txt 2>/dev/null
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
