#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end tests of the embedding API: examples/embed (a program that sees
# only <phyllome/vmm.h> and the shared library) boots the default guest with
# phyllome.action=ticks, waits for its "ticking" line, pauses it (the ticks
# must stop), resumes it (they must go on), presses the ACPI power button
# and waits: the guest's acpid must print "PHYLLOME-GUEST: power button"
# and power off. Checked from the program's report (exit status, events in
# order) and from each guest's serial log.
#
# The "http" case drives the phyllome-vmm command (next to EMBED's
# directory, or $PHYLLOME_VMM) through --api-socket with curl, as a Cloud
# Hypervisor tool would, and reads --event-monitor's lines. The "libvirt"
# case replays libvirt's ch driver on it, called cloud-hypervisor
# (libvirt-sequence.py: idle start, vm.create, a tap by SCM_RIGHTS,
# vm.boot, the guest's shell on the pty from vm.info, ping, pause,
# vm.shutdown and vm.boot again, vmm.shutdown, then --config).
#
# Usage: api-suite.sh EMBED GUEST_DIR LOG_DIR [CASE...] | --list
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=suite-lib.sh
. "$(dirname "$0")/suite-lib.sh"
ALL="embed-one embed-two http libvirt"
# Two guests booting at once load the rig (suite-lib.sh, rig_fault).
LOAD_CASES="embed-two"
suite_args "$@"
EMBED=$1

# embed NAME ARGS...: runs the program, its report in LOGS/NAME.out and each
# guest's serial output in LOGS/NAME-vm<i>.log.
embed() {
  local name=$1
  shift
  timeout -k 5 300 "$EMBED" --kernel "$KERNEL" --initramfs "$INITRD" \
    --cmdline "console=ttyS0 quiet phyllome.action=ticks" \
    --marker "PHYLLOME-GUEST: ticking" --expect "PHYLLOME-GUEST: power button" \
    --busy-guest --timeout 150 --log "$LOGS/$name-vm" "$@" >"$LOGS/$name.out" 2>&1
}

# The events of VM i, in order, as one line: "started paused ...".
events() { grep -a "^vm$2 .* event " "$LOGS/$1.out" | sed 's/.* event \([a-z_]*\).*/\1/' | tr '\n' ' ' | sed 's/ $//'; }

# check_vm NAME I: what VM i did, from both sides; prints why not, if not.
check_vm() {
  local name=$1 i=$2 log=$LOGS/$1-vm$2.log ev
  ev=$(events "$name" "$i")
  [ "$ev" = "started paused resumed power_button shutdown" ] ||
    { echo "vm$i events '$ev'"; return 1; }
  grep -aq "^vm$i .* event shutdown: poweroff" "$LOGS/$name.out" || { echo "vm$i did not power off"; return 1; }
  grep -aq "^vm$i .* paused for 1000 ms: no serial output" "$LOGS/$name.out" || { echo "vm$i: no silent pause"; return 1; }
  grep -aq "^vm$i .* resumed: the guest prints again" "$LOGS/$name.out" || { echo "vm$i: no output after resume"; return 1; }
  grep -aq "^PHYLLOME-GUEST: power button" "$log" || { echo "vm$i's guest never saw the button"; return 1; }
  grep -aq "^PHYLLOME-GUEST: tick " "$log" || { echo "vm$i's guest never ticked"; return 1; }
}

summary() { grep -a -e FAILED -e 'the VM ended' "$LOGS/$1.out" | tr '\n' '|'; }

embed_case() { # NAME EMBED_ARGS...
  local name=$1 rc why=""
  shift
  embed "$name" "$@"
  rc=$?
  [ $rc -eq 0 ] || { bad "$name" "exit status $rc: $(summary "$name")"; return; }
  local n=1
  [ "$*" = --two ] && n=2
  for i in $(seq 0 $((n - 1))); do
    why=$(check_vm "$name" "$i") || { bad "$name" "$why"; return; }
  done
  grep -aq "^embed: all VMs did what was expected" "$LOGS/$name.out" || { bad "$name" "no final verdict"; return; }
  ok "$name ($n VM$([ $n = 2 ] && echo s) paused silent for 1 s, resumed, powered off by the button)"
}

# Raw socket abuse while the guest runs: garbage, a half request left
# hanging, and a flood of connections. Prints "ok" when every one was
# answered or dropped and the server still answers a ping.
abuse() {
  python3 - "$1" <<'PY'
import socket, sys, time
path = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(path); return s
s = conn(); s.sendall(b"\x00\xffGARBAGE\r\n\r\n"); r = s.recv(4096); s.close()
assert r.startswith(b"HTTP/1.1 4"), r[:40]
half = conn(); half.sendall(b"GET /api/v1/vmm.ping HTTP/1.1\r\nHost: x\r\n")
s = conn(); s.sendall(b"PUT /api/v1/vm.pause HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n")
r = s.recv(4096); s.close(); assert r.startswith(b"HTTP/1.1 413"), r[:40]
flood = []
for _ in range(200):
    try: flood.append(conn())
    except OSError: pass
for f in flood: f.close()
half.close()
s = conn(); s.sendall(b"GET /api/v1/vmm.ping HTTP/1.1\r\nHost: x\r\n\r\n")
r = s.recv(4096); s.close(); assert r.startswith(b"HTTP/1.1 200"), r[:40]
print("ok")
PY
}

case_http() {
  local name=http sock=/tmp/phy-e2e-api.$$.sock ev=$LOGS/http.events log=$LOGS/http.log
  local vmm=${PHYLLOME_VMM:-$(cd "$(dirname "$EMBED")/.." && pwd)/phyllome-vmm}
  rm -f "$sock" "$ev"
  api() { curl -s -m 20 --unix-socket "$sock" -o "$LOGS/http.body" -w '%{http_code}' "$@"; }
  "$vmm" --kernel "$KERNEL" --initramfs "$INITRD" --memory size=512M \
    --cmdline "console=ttyS0 quiet phyllome.action=ticks" --serial "file=$log" \
    --api-socket "path=$sock" --event-monitor "path=$ev" >"$LOGS/http.out" 2>&1 &
  local pid=$! why="" code a b c n abused
  gone() { ! kill -0 $pid 2>/dev/null; }
  # The waits end early when the VMM is gone (a guest that died, in the
  # rig): the case then fails at once rather than at the rig's time limit.
  for _ in $(seq 1500); do grep -aq "PHYLLOME-GUEST: ticking" "$log" 2>/dev/null && break; gone && break; sleep 0.1; done
  step() { # EXPECTED_CODE WHAT CURL_ARGS...
    local want=$1 what=$2; shift 2
    code=$(api "$@")
    [ "$code" = "$want" ] || why="$what: HTTP $code, want $want ($(head -c 200 "$LOGS/http.body"))"
    [ -z "$why" ]
  }
  if ! grep -aq "PHYLLOME-GUEST: ticking" "$log"; then why="the guest never started ticking$(gone && echo ': the VMM exited')"
  elif ! step 200 ping http://localhost/api/v1/vmm.ping || ! grep -q '"version"' "$LOGS/http.body"; then why=${why:-"ping body lacks version"}
  elif ! step 200 info http://localhost/api/v1/vm.info || ! grep -q '"state": *"Running"' "$LOGS/http.body"; then why=${why:-"info: state is not Running: $(head -c 200 "$LOGS/http.body")"}
  elif ! step 200 counters http://localhost/api/v1/vm.counters; then :
  elif ! step 204 pause -X PUT http://localhost/api/v1/vm.pause; then :
  else
    a=$(wc -c <"$log"); sleep 2; b=$(wc -c <"$log")
    if [ "$a" != "$b" ]; then why="paused, yet the serial log grew $a -> $b"
    elif ! step 200 info-paused http://localhost/api/v1/vm.info || ! grep -q '"state": *"Paused"' "$LOGS/http.body"; then why=${why:-"info while paused: $(head -c 200 "$LOGS/http.body")"}
    elif ! step 405 pause-twice -X PUT http://localhost/api/v1/vm.pause; then :
    elif ! step 204 resume -X PUT http://localhost/api/v1/vm.resume; then :
    else
      sleep 2; c=$(wc -c <"$log")
      if [ "$c" = "$b" ]; then why="resumed, yet no serial output in 2 s"
      elif abused=$(abuse "$sock" 2>&1 | tail -1) && [ "$abused" != ok ]; then why="socket abuse: $abused"
      elif ! step 204 reboot -X PUT http://localhost/api/v1/vm.reboot; then :
      else
        for _ in $(seq 1500); do n=$(grep -ac "PHYLLOME-GUEST: ticking" "$log"); [ "$n" -ge 2 ] && break; gone && break; sleep 0.1; done
        if [ "$n" -lt 2 ]; then why="the guest did not boot again after vm.reboot$(gone && echo ': the VMM exited')"
        elif ! step 204 power-button -X PUT http://localhost/api/v1/vm.power-button; then :
        fi
      fi
    fi
  fi
  local rc
  if [ -z "$why" ]; then
    for _ in $(seq 1200); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  fi
  kill -TERM $pid 2>/dev/null
  wait $pid
  rc=$?
  [ -z "$why" ] || { bad $name "$why"; return; }
  [ $rc -eq 0 ] || { bad $name "exit status $rc after the power button, want 0: $(tail -1 "$LOGS/http.out")"; return; }
  grep -aq "PHYLLOME-GUEST: power button" "$log" || { bad $name "the guest never saw the button"; return; }
  [ ! -e "$sock" ] || { bad $name "the socket was left behind"; return; }
  local e got=""
  for e in booting booted pausing paused resuming resumed rebooting rebooted power-button shutdown; do
    grep -q "\"event\": *\"$e\"" "$ev" || got="$got $e"
  done
  [ -z "$got" ] || { bad $name "event monitor lacks:$got ($(wc -l <"$ev") lines)"; return; }
  ok "$name (ping, info, counters, pause: serial silent, 405 on pausing twice, resume, garbage/half/oversized/200 connections, reboot, power button -> exit 0; $(wc -l <"$ev") event lines)"
}

case_libvirt() {
  local vmm=${PHYLLOME_VMM:-$(cd "$(dirname "$EMBED")/.." && pwd)/phyllome-vmm}
  local work=/tmp/phy-e2e-libvirt.$$
  rm -rf "$work"
  timeout -k 5 900 python3 "$here/libvirt-sequence.py" "$vmm" "$KERNEL" "$INITRD" "$work" \
    >"$LOGS/libvirt.out" 2>&1
  local rc=$?
  cp "$work/vmm.log" "$LOGS/libvirt-vmm.log" 2>/dev/null
  rm -rf "$work"
  if [ $rc -eq 0 ] && grep -q "^libvirt-sequence: ok" "$LOGS/libvirt.out"; then
    ok "libvirt ($(grep -c '^  ' "$LOGS/libvirt.out") steps: create, add-net by SCM_RIGHTS, boot, pty shell, ping, pause, shutdown, boot again, vmm.shutdown, --config)"
  else
    bad libvirt "exit $rc: $(grep -a 'FAIL' "$LOGS/libvirt.out" | tail -1 | head -c 400)"
  fi
}

case_embed_one() { embed_case embed-one; }
case_embed_two() { embed_case embed-two --two; }

suite_run
