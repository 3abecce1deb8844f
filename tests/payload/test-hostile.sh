#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The hostile-guest suite: hostile.elf (tests/payload/hostile) attacks every
# register window and feeds malformed rings to every virtio device of one
# VM (virtio-blk on a scratch file, virtio-net on a tap where this runs as
# root, virtio-gpu 2D, virtio-rng, virtio-console, virtio-vsock,
# virtio-balloon, virtio-input through SDL's dummy video driver). After
# each phase the guest prints a marker once a virtio-blk write read back
# and an entropy read worked; on each marker
# this script asks the API (vm.info, vm.counters). At the end the guest
# spins, the API is asked once more, vmm.shutdown must end the VMM with
# exit 0 and no sanitizer report.
# Then hostile-fw.bin does the same to the --firmware machine's own windows.
# Usage: test-hostile.sh VMM HOSTILE_ELF HOSTILE_FW WORKDIR
# Environment: HOSTILE_SEED (default 1), HOSTILE_OPS (accesses per window
# and function, default 400), HOSTILE_LONG=1 (the long variant, 4000:
# ten times the accesses and rings, not in CI).
set -uo pipefail
vmm=$1 elf=$2 fw=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
. "$(dirname "$0")/tap.sh"
seed=${HOSTILE_SEED:-1} ops=${HOSTILE_OPS:-400}
[ "${HOSTILE_LONG:-0}" = 1 ] && ops=4000
# Each VMM's time limit (the firmware's is set below): generous, a loaded
# 2-core machine is slow; ctest's limit is 300 s.
limit=$((100 + ops / 4))
truncate -s 8M "$work/disk.img"

net=() tap= listener=
if [ "$(id -u)" = 0 ] && [ -c /dev/net/tun ]; then
  tap=hst$$
  ip tuntap add dev "$tap" mode tap && sysctl -q -w "net.ipv6.conf.$tap.disable_ipv6=1" &&
    ip link set "$tap" up && net=(--net "tap=$tap")
  check "a tap for virtio-net" $? "ip tuntap add $tap failed"
else
  echo "ok - # SKIP virtio-net: needs root and /dev/net/tun"
fi
cleanup() { [ -n "$tap" ] && ip link del "$tap" 2>/dev/null; }
trap cleanup EXIT

api() { curl -s -m 10 --unix-socket "$sock" -w '\n%{http_code}' "http://localhost/api/v1/$1" "${@:2}"; }
# ask NAME: vm.info and vm.counters answer (200, a state, the devices' counts).
ask() {
  local info counters
  info=$(api vm.info) counters=$(api vm.counters)
  if [ "${info##*$'\n'}" = 200 ] && grep -q '"state":"Running"' <<<"$info" &&
    [ "${counters##*$'\n'}" = 200 ]; then
    asked=$((asked + 1))
    printf '%s\n' "${counters%$'\n'*}" >"${log%.log}.counters.json"
  else
    failed_api+="$1: vm.info '${info: -80}' vm.counters '${counters: -80}'; "
  fi
}

# vm NAME RESULT_PREFIX VMM_ARGS...: runs the VMM with the API on
# WORK/NAME.sock and COM1 in WORK/NAME.log, asks the API on each phase
# marker and once the result line is there, then vmm.shutdown. Sets
# result, phases, asked, failed_api, rc, out.
vm() {
  local name=$1 prefix=$2 seen=0 pid
  shift 2
  sock=$work/$name.sock log=$work/$name.log asked=0 failed_api= result=
  timeout -k 5 "$limit" "$vmm" "$@" --api-socket "path=$sock" \
    --serial "file=$log" 2>"$work/$name.err" &
  pid=$!
  for _ in $(seq $((limit * 10))); do
    kill -0 $pid 2>/dev/null || break
    mapfile -t phases < <(grep -ao "^HOSTILE phase=[a-z-]*" "$log" 2>/dev/null)
    while [ $seen -lt ${#phases[@]} ]; do ask "${phases[$seen]}"; seen=$((seen + 1)); done
    result=$(grep -a "^$prefix" "$log" 2>/dev/null)
    [ -n "$result" ] && break
    sleep 0.1
  done
  # Markers that came with the result line, then the end.
  mapfile -t phases < <(grep -ao "^HOSTILE phase=[a-z-]*" "$log" 2>/dev/null)
  while [ $seen -lt ${#phases[@]} ]; do ask "${phases[$seen]}"; seen=$((seen + 1)); done
  [ -n "$result" ] && ask final
  out=$(api vmm.shutdown -X PUT)
  wait $pid
  rc=$?
  [ $rc = 0 ] && [ "${out##*$'\n'}" = 204 ]
  check "$name: vmm.shutdown ends the VMM: exit 0" $? "exit $rc, '$out': $(tail -2 "$work/$name.err")"
  ! grep -q "Sanitizer\|runtime error" "$work/$name.err"
  check "$name: no sanitizer report" $? "$(grep -m3 "Sanitizer\|runtime error" "$work/$name.err")"
}

# A host side for virtio-vsock's guest connections (port 1234): it
# answers with a few bytes and reads until the guest or the VMM closes.
python3 -c '
import os, socket, sys, threading
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(64)
def serve(c):
    try:
        c.sendall(os.urandom(100))
        while c.recv(65536):
            pass
    except OSError:
        pass
    c.close()
while True:
    threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
' "$work/vsock.sock_1234" &
listener=$!
cleanup() { [ -n "$listener" ] && kill $listener 2>/dev/null; [ -n "$tap" ] && ip link del "$tap" 2>/dev/null; }

# virtio-input exists only with the window: SDL's dummy video driver
# gives one without a display.
display=(--display sdl)
"$vmm" --help 2>&1 | grep -q -- "--display .*sdl" || display=()
[ ${#display[@]} = 2 ] || echo "ok - # SKIP virtio-input: built without --display sdl"
export SDL_VIDEODRIVER=dummy

vm pvh HOSTILE-RESULT --kernel "$elf" --memory size=64M \
  --disk "path=$work/disk.img" "${net[@]}" --gpu mode=2d "${display[@]}" \
  --console "file=$work/console.log" --vsock "cid=3,socket=$work/vsock.sock" \
  --balloon size=8M --cmdline "seed=$seed ops=$ops"
echo "# $(grep -a "^HOSTILE functions" "$log")"
echo "# ${result:-no result line}"
[[ "$result" == "HOSTILE-RESULT pass "* ]]
check "the guest went through every phase" $? "$(grep -a 'HOSTILE\|DEVBENCH' "$log" | tail -3)"
n=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["_vsock0"]["guest_connects"])' \
  "$work/pvh.counters.json" 2>&1)
[ "$n" -gt 0 ] 2>/dev/null && [[ "$result" == *" vsock_connected=1"* ]]
check "after its rings, virtio-vsock connects to the host's listener ($n connections in all)" $? \
  "'$n' '$result'"
[[ "$result" =~ \ gpu_ok=([0-9]+)\ gpu_err=([0-9]+) ]] && [ $((BASH_REMATCH[1] + BASH_REMATCH[2])) -gt 0 ]
check "virtio-gpu answered the command sequences (OK or an error code)" $? "'$result'"
want="start pci-config bars ports rings-blk rings-console rings-rng rings-balloon rings-gpu rings-vsock"
[ ${#net[@]} = 2 ] && want+=" rings-net"
[ ${#display[@]} = 2 ] && want+=" rings-input"
for p in $want; do
  grep -aq "^HOSTILE phase=$p .* sane=ok$" "$log"
  check "after $p: virtio-blk read back a write, virtio-rng answered" $? \
    "$(grep -a 'HOSTILE\|DEVBENCH' "$log" | tail -2)"
done
[ -z "$failed_api" ] && [ $asked = $((${#phases[@]} + 1)) ]
check "the API answered after each of ${#phases[@]} phases and at the end ($asked times)" $? \
  "$failed_api asked $asked"

# The --firmware machine's windows (hostile-fw.inc): the seed and count in
# the variables file, which the image reads before attacking the flash.
# An NV-data firmware volume header (test-firmware.sh), then 0xFF.
python3 -c 'import struct, sys
fv = bytes(16) + bytes.fromhex("8d2bf1ff96768b4ca9852747075b4f50") + struct.pack("<Q4s", 0x2000, b"_FVH")
fv = fv.ljust(0x48, b"\0").ljust(0x1800, b"\xff") + struct.pack("<II", *map(int, sys.argv[2:]))
open(sys.argv[1], "wb").write(fv.ljust(0x2000, b"\xff"))' "$work/vars.fd" "$seed" "$((ops * 5))"
limit=$((60 + ops / 40))
vm firmware HOSTILE-FW --firmware "path=$fw,vars=$work/vars.fd" --memory size=64M --rng off
echo "# ${result:-no result line}"
fa=$(sed -n 's/.*accesses=\([0-9a-f]*\) excluded=\([0-9a-f]*\)$/\1 \2/p' <<<"$result")
[ -n "$fa" ] && echo "# firmware: $((16#${fa% *})) register accesses, $((16#${fa#* })) excluded"
[[ "$result" == "HOSTILE-FW pass "* ]] && grep -aq "^FW: hostile done, fw_cfg QEMU" "$log"
check "firmware: fw_cfg, CMOS, PIIX PM and the flash attacked; fw_cfg still answers" $? \
  "$(grep -a 'FW' "$log" | tail -3)"
[ -z "$failed_api" ] && [ $asked = 1 ]
check "firmware: the API answered at the end" $? "$failed_api asked $asked"
tap_done test-hostile
