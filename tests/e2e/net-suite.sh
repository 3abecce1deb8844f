#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end virtio-net tests: the default guest plus the hook in
# tests/e2e/net-guest (run-e2e.sh --guest-extra), whose steps report on
# "PHYLLOME-NET: " lines, against a tap device in L1 (the rig; taps stay
# inside it). Checked from both sides: what the guest says it sent, received
# and saw, and what L1 sent, received and sees (ping, checksums, the tap's
# counters and existence).
#
# Addresses: L1 10.77.0.1/24 on the tap, the guest 10.77.0.2/24
# (phyllome.ip= / phyllome.peer= on the guest's command line). L1's half of
# the TCP transfers is tests/e2e/net-xfer.py (the guest connects to it with
# busybox nc).
#
# Usage: net-suite.sh VMM GUEST_DIR LOG_DIR [CASE...] | --list
# Environment: PHYLLOME_NET_E2E_MB (MiB per direction in "xfer", default
# 200). PHYLLOME_NET_E2E_QEMU=1 runs the guest-side cases under QEMU q35
# (virtio-net-pci, vhost=off) instead of VMM, to check the harness itself;
# tap-lifetime, bad-net and fd test phyllome-vmm only and are skipped then;
# PHYLLOME_NET_E2E_QEMU_DEV=PROPS appends to its -device (e.g. status=off,
# to see the cases fail).
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=suite-lib.sh
. "$(dirname "$0")/suite-lib.sh"
ALL="basic xfer mq link tap-lifetime bad-net fd"
# The cases that load the rig (suite-lib.sh, rig_fault).
LOAD_CASES="xfer mq"
suite_args "$@"
VMM=$1
# The PVH entry saves the bzImage's decompression (~3 s under TCG).
[ -f "$GUEST/vmlinux" ] && KERNEL=$GUEST/vmlinux
QEMU_MODE=${PHYLLOME_NET_E2E_QEMU:-0}
MB=${PHYLLOME_NET_E2E_MB:-200}
TAP=phy-e2e0 HOST_IP=10.77.0.1 GUEST_IP=10.77.0.2 MAC=52:54:00:e2:e0:02
modprobe -q tun 2>/dev/null
# Every wait ends by this time, so that a hung guest gives "not ok" and its
# logs before run-e2e.sh's rig timeout (PHYLLOME_E2E_CASE_TIMEOUT, which
# also covers L1's boot) stops everything. Meant for one case per run, as
# run-e2e.sh does; several cases in one run share it.
DEADLINE=$((SECONDS + ${PHYLLOME_E2E_CASE_TIMEOUT:-360} - 45))

# ---------------------------------------------------------------- helpers
taps_made=() pids=()
cleanup() {
  local p t
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  for t in "${taps_made[@]}"; do ip link del "$t" 2>/dev/null; done
  pids=() taps_made=()
}
trap cleanup EXIT
after_each_case() { cleanup; }

# mktap NAME ADDR/LEN [multi_queue]: a persistent tap with L1's address, up
mktap() {
  ip link del "$1" 2>/dev/null
  ip tuntap add dev "$1" mode tap ${3:+multi_queue} &&
    ip addr add "$2" dev "$1" && ip link set "$1" up || return 1
  taps_made+=("$1")
}
# The tun/tap interfaces in L1, one a line.
list_taps() { local d; for d in /sys/class/net/*; do [ -e "$d/tun_flags" ] && echo "${d##*/}"; done; }

# start_vm NAME CPUS STEP CMDLINE_EXTRA NET [NET...]: starts the VMM in the
# background with serial to LOGS/NAME.log; sets vm_pid. NET is --net's
# value; under PHYLLOME_NET_E2E_QEMU only one, translated for QEMU.
# VM_WRAP: a command that execs the VMM (tap-fds.py, for --net fd=).
vm_pid="" mon="" MEM=512M API_SOCK="" VM_WRAP=()
start_vm() {
  local name=$1 cpus=$2 step=$3 extra=$4
  shift 4
  local cmdline="console=ttyS0 quiet cryptomgr.notests pci=noearly phyllome.action=poweroff phyllome.net=$step $extra"
  # A case retried in a fresh rig keeps the first attempt's logs.
  if [ -s "$LOGS/$name.log" ]; then
    mv "$LOGS/$name.log" "$LOGS/$name.prev.log"
    mv "$LOGS/$name.err" "$LOGS/$name.prev.err" 2>/dev/null
  fi
  : >"$LOGS/$name.log"
  if [ "$QEMU_MODE" = 1 ]; then
    local spec=$1 tap="" mac="" nq=2 kv
    for kv in ${spec//,/ }; do
      case $kv in tap=*) tap=${kv#*=} ;; mac=*) mac=${kv#*=} ;; num_queues=*) nq=${kv#*=} ;; esac
    done
    local nd="tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=off" dev="virtio-net-pci,netdev=n0,mac=$mac"
    if [ "$nq" -gt 2 ]; then nd+=",queues=$((nq / 2))"; dev+=",mq=on,vectors=$((nq + 2))"; fi
    dev+=${PHYLLOME_NET_E2E_QEMU_DEV:+,$PHYLLOME_NET_E2E_QEMU_DEV}
    mon=${TMPDIR:-/tmp}/phy-net-e2e-$name.mon
    rm -f "$mon"
    timeout -k 5 600 qemu-system-x86_64 -M q35 -enable-kvm -cpu host -smp "$cpus" -m "$MEM" \
      -nodefaults -no-user-config -display none -no-reboot -serial "file:$LOGS/$name.log" \
      -monitor "unix:$mon,server=on,wait=off" -kernel "$KERNEL" -initrd "$INITRD" -append "$cmdline" \
      -netdev "$nd" -device "$dev" </dev/null >/dev/null 2>"$LOGS/$name.err" &
  else
    local nets=() n
    for n in "$@"; do nets+=(--net "$n"); done
    timeout -k 5 600 "${VM_WRAP[@]}" "$VMM" --kernel "$KERNEL" --initramfs "$INITRD" --memory "size=$MEM" \
      --cpus "boot=$cpus" --serial "file=$LOGS/$name.log" --cmdline "$cmdline" \
      "${nets[@]}" ${API_SOCK:+--api-socket "path=$API_SOCK"} </dev/null >/dev/null 2>"$LOGS/$name.err" &
  fi
  vm_pid=$!
  pids+=("$vm_pid")
}
# vm_exit: waits for the VM (up to 120 s more); its exit status in vm_rc
# (137: killed after that).
vm_rc=""
vm_exit() {
  local end=$((SECONDS + 120))
  while kill -0 "$vm_pid" 2>/dev/null && [ $SECONDS -lt $end ] && [ $SECONDS -lt $DEADLINE ]; do
    sleep 0.5
  done
  kill -0 "$vm_pid" 2>/dev/null && kill -KILL "$vm_pid" 2>/dev/null
  wait "$vm_pid" 2>/dev/null
  vm_rc=$?
}

net_lines() { grep -a "^PHYLLOME-NET: " "$LOGS/$1.log" | tr -d '\r' | sed 's/^PHYLLOME-NET: //'; }
# says NAME WORD: the rest of the guest's first "PHYLLOME-NET: WORD ..." line
# (WORD a whole word, unlike suite-lib.sh's says)
says() { net_lines "$1" | grep -m1 "^$2\( \|$\)" | sed "s/^$2 *//"; }
# field NAME WORD KEY: KEY=VALUE from that line
field() { says "$1" "$2" | tr ' ' '\n' | grep -m1 "^$3=" | sed "s/^$3=//"; }
# wait_for NAME REGEX SECS: until a guest line matches (0), "error" (1), the
# VM ends (1) or SECS pass, or the case's DEADLINE (2). Times are wall
# seconds: in the rig each poll's processes take a while.
wait_for() {
  local name=$1 re=$2 end=$((SECONDS + $3)) lines alive
  while [ $SECONDS -lt $end ] && [ $SECONDS -lt $DEADLINE ]; do
    alive=0
    kill -0 "$vm_pid" 2>/dev/null && alive=1
    lines=$(net_lines "$name")
    grep -q -E "^($re)" <<<"$lines" && return 0
    grep -q "^error" <<<"$lines" && return 1
    [ $alive = 1 ] || return 1
    sleep 0.5
  done
  return 2
}
# why NAME: a line about how it ended
why() {
  local g
  g=$(grep -a -E 'PHYLLOME-(NET|GUEST)|Kernel panic|BUG:' "$LOGS/$1.log" | tr -d '\r' | tail -3 | tr '\n' '|')
  echo "stderr: $(tail -2 "$LOGS/$1.err" 2>/dev/null | tr '\n' ' '); guest: ${g:-nothing}$([ $SECONDS -ge $DEADLINE ] && echo "; the case's time ran out (${SECONDS}s)")"
}
# boot_until NAME CPUS STEP EXTRA REGEX SECS NET...: start_vm, then wait for
# REGEX for SECS. A boot that does not reach init in 90 s is retried once
# (nested KVM under TCG sometimes loses an SMP wake-up, docs/testing.md).
# Status as wait_for.
boot_until() {
  local name=$1 cpus=$2 step=$3 extra=$4 re=$5 secs=$6 try i
  shift 6
  for try in 1 2; do
    start_vm "$name" "$cpus" "$step" "$extra" "$@"
    i=$((SECONDS + 90))
    while [ $SECONDS -lt $i ] && [ $SECONDS -lt $DEADLINE ]; do
      grep -aq "PHYLLOME-GUEST: init started" "$LOGS/$name.log" && break
      kill -0 "$vm_pid" 2>/dev/null || break
      sleep 0.5
    done
    if grep -aq "PHYLLOME-GUEST: init started" "$LOGS/$name.log" || ! kill -0 "$vm_pid" 2>/dev/null || [ $try = 2 ]; then
      wait_for "$name" "$re" "$secs"
      return
    fi
    kill -KILL "$vm_pid" 2>/dev/null
    wait "$vm_pid" 2>/dev/null
    cp "$LOGS/$name.log" "$LOGS/$name.try$try.log"
    echo "# $name: the guest did not reach init in 90 s (attempt $try), retrying"
  done
}
has_bits() { # has_bits FEATURES BIT... -> missing bits on stdout
  local f=$1 b
  shift
  for b in "$@"; do [ "${f:$b:1}" = 1 ] || echo -n "$b "; done
}
host_ping() { # host_ping ADDR: busybox ping from L1; "ok ..." or "failed ..."
  local out
  if out=$(busybox ping -c 3 -w 20 "$1" 2>&1); then
    echo "ok $(echo "$out" | grep -E 'packets' | tr '\n' ' ')"
  else
    echo "failed $(echo "$out" | tail -2 | tr '\n' ' ')"
  fi
}
# link_set up|down: the tap's link, as an operator would pull it (QEMU
# does not follow a tap's state: its monitor's set_link stands in there).
link_set() {
  if [ "$QEMU_MODE" = 1 ]; then
    python3 - "$mon" "$1" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(f"set_link n0 {'on' if sys.argv[2] == 'up' else 'off'}\n".encode())
time.sleep(0.5)
EOF
  else
    ip link set "$TAP" "$1"
  fi
}
# xfer_host NAME ARGS...: net-xfer.py in the background, output to
# LOGS/NAME-host.txt; waits until it listens. Sets xfer_pid.
xfer_pid=""
xfer_host() {
  local name=$1
  shift
  python3 "$here/net-xfer.py" --bind "$HOST_IP" "$@" >"$LOGS/$name-host.txt" 2>&1 &
  xfer_pid=$!
  pids+=("$xfer_pid")
  local end=$((SECONDS + 30))
  while [ $SECONDS -lt $end ]; do
    grep -q '^listening' "$LOGS/$name-host.txt" && return 0
    kill -0 $xfer_pid 2>/dev/null || break
    sleep 0.2
  done
  return 1
}
host_line() { grep -m1 "^$2 $3 " "$LOGS/$1-host.txt" | cut -d' ' -f3-; } # NAME send|recv PORT -> BYTES SUM SECS
# api_counters FILE: GET vm.counters on API_SOCK into FILE
api_counters() { curl -s --max-time 10 --unix-socket "$API_SOCK" http://localhost/api/v1/vm.counters >"$1" 2>&1; }
# cval FILE ID FIELD: one counter of device ID from a vm.counters answer
cval() {
  python3 -c 'import json, sys
try:
    print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])
except Exception as e:
    print(f"missing({type(e).__name__})")' "$@"
}
FEATURES_BASE="0 1 5 7 8 11 12 15 16 32" # CSUM GUEST_CSUM MAC GUEST_TSO4/6 HOST_TSO4/6 MRG_RXBUF STATUS VERSION_1

# ---------------------------------------------------------------- cases
case_basic() {
  mktap "$TAP" "$HOST_IP/24" || { bad basic "cannot create the tap"; return; }
  boot_until basic 1 basic "" "wait-ping" 200 "tap=$TAP,mac=$MAC"
  local rc=$?
  [ $rc = 0 ] || { bad basic "no wait-ping from the guest (rc $rc): $(why basic)"; return; }
  local hp
  hp=$(host_ping "$GUEST_IP")
  wait_for basic "done basic" 150
  vm_exit; rc=$vm_rc
  local addr mac drv car feats miss
  addr=$(field basic up addr) mac=$(field basic up mac) drv=$(field basic up driver)
  car=$(field basic up carrier) feats=$(field basic up features)
  [ "$drv" = virtio_net ] && [ "$addr" = "$GUEST_IP/24" ] ||
    { bad basic "guest interface: $(says basic up)"; return; }
  [ "$mac" = "$MAC" ] || { bad basic "guest MAC $mac, --net asked for $MAC"; return; }
  [ "$car" = 1 ] || { bad basic "guest carrier $car after link up"; return; }
  miss=$(has_bits "$feats" $FEATURES_BASE)
  [ -z "$miss" ] || { bad basic "features not negotiated: bits $miss(features=$feats)"; return; }
  [[ $(says basic ping-out) == ok* ]] || { bad basic "guest->L1 ping: $(says basic ping-out)"; return; }
  [[ $hp == ok* ]] || { bad basic "L1->guest ping: $hp"; return; }
  [[ $(says basic ping-in) == ok* ]] || { bad basic "the guest did not see L1's echo requests: $(says basic ping-in)"; return; }
  local rxp txp
  rxp=$(cat "/sys/class/net/$TAP/statistics/rx_packets") txp=$(cat "/sys/class/net/$TAP/statistics/tx_packets")
  [ "$rxp" -ge 6 ] && [ "$txp" -ge 6 ] || { bad basic "the tap counted rx $rxp tx $txp packets, want >= 6 each"; return; }
  [ "$rc" = 0 ] || { bad basic "exit $rc after the guest powered off: $(why basic)"; return; }
  ok "basic (virtio_net eth0 $addr mac $mac, offloads negotiated; guest->L1 $(says basic ping-out | sed 's/ round-trip.*//'); L1->guest $hp; tap rx $rxp tx $txp packets)"
}

case_xfer() {
  mktap "$TAP" "$HOST_IP/24" || { bad xfer "cannot create the tap"; return; }
  xfer_host xfer --timeout 500 --send "7002:$MB" --recv 7003 || { bad xfer "net-xfer.py: $(cat "$LOGS/xfer-host.txt")"; return; }
  local t0=$SECONDS
  # The guest makes the data it sends in its tmpfs (half its RAM).
  MEM=$(( (MB * 2 + 511) / 512 * 512 + 512 ))M
  boot_until xfer 1 xfer "phyllome.net_mb=$MB" "done xfer" 300 "tap=$TAP,mac=$MAC"
  local rc=$? took=$((SECONDS - t0))
  MEM=512M
  [ $rc = 0 ] || { bad xfer "the guest did not finish (rc $rc) after ${took}s: $(why xfer); L1: $(tr '\n' ' ' <"$LOGS/xfer-host.txt")"; return; }
  vm_exit; rc=$vm_rc
  wait "$xfer_pid" 2>/dev/null
  local want=$((MB * 1048576)) hs_b hs_s hr_b hr_s gr_s gr_t gt_b gt_s gt_t
  read -r hs_b hs_s _ <<<"$(host_line xfer send 7002)"
  read -r hr_b hr_s _ <<<"$(host_line xfer recv 7003)"
  read -r _ gr_s gr_t _ <<<"$(says xfer rx)"
  read -r gt_b gt_s gt_t _ <<<"$(says xfer tx)"
  [ "$hs_b" = "$want" ] || { bad xfer "L1 sent ${hs_b:-nothing} bytes, want $want: $(tr '\n' ' ' <"$LOGS/xfer-host.txt")"; return; }
  [ "$gr_s" = "$hs_s" ] ||
    { bad xfer "L1->guest: L1 sent $hs_b bytes sha256 $hs_s, the guest got sha256 ${gr_s:-?} ($(says xfer rx))"; return; }
  [ "$gt_b" = "$want" ] || { bad xfer "the guest sent ${gt_b:-?} bytes, want $want ($(says xfer tx))"; return; }
  [ "$hr_b" = "$gt_b" ] && [ "$hr_s" = "$gt_s" ] ||
    { bad xfer "guest->L1: the guest sent $gt_b bytes sha256 $gt_s, L1 got ${hr_b:-?} bytes sha256 ${hr_s:-?}"; return; }
  [ "$rc" = 0 ] || { bad xfer "exit $rc after the guest powered off: $(why xfer)"; return; }
  ok "xfer ($MB MiB each way, sha256 equal on both sides; L1->guest ${gr_t}s, guest->L1 ${gt_t}s by the guest's clock; ${took}s with the boot)"
}

case_mq() {
  mktap "$TAP" "$HOST_IP/24" multi_queue || { bad mq "cannot create the multi-queue tap"; return; }
  local streams=4 mbs=16 i args=()
  for ((i = 0; i < streams; i++)); do args+=(--send "$((7010 + i)):$mbs" --recv "$((7030 + i))"); done
  xfer_host mq --timeout 500 "${args[@]}" || { bad mq "net-xfer.py: $(cat "$LOGS/mq-host.txt")"; return; }
  API_SOCK=""
  [ "$QEMU_MODE" = 1 ] || API_SOCK=${TMPDIR:-/tmp}/phy-net-e2e-$$.sock
  MEM=1G
  boot_until mq 2 mq "phyllome.net_streams=$streams phyllome.net_mb_stream=$mbs" "mq-done" 400 \
    "tap=$TAP,mac=$MAC,num_queues=4,id=mq0"
  local rc=$?
  MEM=512M
  [ $rc = 0 ] || { bad mq "the guest did not finish (rc $rc): $(why mq); L1: $(tr '\n' ' ' <"$LOGS/mq-host.txt")"; API_SOCK=""; return; }
  # The VMM's own view (vm.counters, "mq0"): both queue pairs moved frames.
  local cnt="" cbad=""
  if [ -n "$API_SOCK" ]; then
    api_counters "$LOGS/mq-counters.json"
    local f v
    for f in active_queue_pairs link_up q0_rx_frames q1_rx_frames q0_tx_frames q1_tx_frames rx_bytes tx_bytes rx_drops tx_drops; do
      v=$(cval "$LOGS/mq-counters.json" mq0 "$f")
      cnt+="$f=$v "
      case $f in
        active_queue_pairs) [ "$v" = 2 ] || cbad+="$f=$v (want 2) " ;;
        link_up) [ "$v" = 1 ] || cbad+="$f=$v " ;;
        q*) [[ $v =~ ^[0-9]+$ ]] && [ "$v" -gt 0 ] || cbad+="$f=$v " ;;
        *bytes) [[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge $((streams * mbs * 1048576)) ] || cbad+="$f=$v (< $((streams * mbs)) MiB) " ;;
        *drops) [ "$v" = 0 ] || cbad+="$f=$v " ;;
      esac
    done
  fi
  busybox ping -c 1 -w 10 "$GUEST_IP" >/dev/null 2>&1 # releases the guest
  wait_for mq "done mq" 60
  vm_exit; rc=$vm_rc
  API_SOCK=""
  wait "$xfer_pid" 2>/dev/null
  local rxq txq feats miss
  rxq=$(field mq up rxq) txq=$(field mq up txq) feats=$(field mq up features)
  miss=$(has_bits "$feats" 17 22)
  [ -z "$miss" ] || { bad mq "CTRL_VQ/MQ not negotiated: bits $miss(features=$feats)"; return; }
  [ "$rxq" = 2 ] && [ "$txq" = 2 ] || { bad mq "the guest uses $rxq rx and $txq tx queues, want 2 and 2: $(says mq up)"; return; }
  local line gr_s gs_b gs_s hs_b hs_s hr_b hr_s
  for ((i = 0; i < streams; i++)); do
    line=$(net_lines mq | grep -m1 "^mq-stream $i ")
    read -r _ _ _ _ gr_s _ _ gs_b gs_s _ <<<"$line"
    read -r hs_b hs_s _ <<<"$(host_line mq send $((7010 + i)))"
    read -r hr_b hr_s _ <<<"$(host_line mq recv $((7030 + i)))"
    [ "$hs_b" = $((mbs * 1048576)) ] && [ "$gr_s" = "$hs_s" ] ||
      { bad mq "stream $i L1->guest: L1 sent ${hs_b:-?} bytes sha256 ${hs_s:-?}, the guest got sha256 ${gr_s:-?}"; return; }
    [ "$gs_b" = $((mbs * 1048576)) ] && [ "$hr_s" = "$gs_s" ] && [ "$hr_b" = "$gs_b" ] ||
      { bad mq "stream $i guest->L1: the guest sent ${gs_b:-?} ${gs_s:-?}, L1 got ${hr_b:-?} ${hr_s:-?}"; return; }
  done
  local irqs
  irqs=$(says mq mq-irqs)
  local q v zero=""
  for q in input.0 input.1 output.0 output.1; do
    v=$(echo "$irqs" | tr ' ' '\n' | grep -m1 "^$q=" | cut -d= -f2)
    [[ $v =~ ^[0-9]+$ ]] && [ "$v" -gt 0 ] || zero+="$q=${v:-?} "
  done
  [ -z "$zero" ] || { bad mq "queue vectors without interrupts during the transfers: $zero(vectors: $(says mq mq-vectors))"; return; }
  [ -z "$cbad" ] || { bad mq "vm.counters of the device: $cbad(all: $(cat "$LOGS/mq-counters.json"))"; return; }
  [ "$rc" = 0 ] || { bad mq "exit $rc after the guest powered off: $(why mq)"; return; }
  ok "mq (num_queues=4: 2 queue pairs, CTRL_VQ+MQ; $streams streams of $mbs MiB each way on 2 vCPUs, sha256 equal; guest interrupts $irqs${cnt:+; VMM counters $cnt})"
}

case_link() {
  mktap "$TAP" "$HOST_IP/24" || { bad link "cannot create the tap"; return; }
  [ "$QEMU_MODE" = 1 ] || API_SOCK=${TMPDIR:-/tmp}/phy-net-e2e-$$.sock
  boot_until link 1 link "" "link-ready" 200 "tap=$TAP,mac=$MAC,id=link0"
  local rc=$? c_down="" c_up=""
  [ $rc = 0 ] || { bad link "no link-ready from the guest (rc $rc): $(why link)"; API_SOCK=""; return; }
  [ "$(field link link-ready carrier)" = 1 ] || { bad link "carrier $(field link link-ready carrier) before the link went down"; API_SOCK=""; return; }
  link_set down
  wait_for link "link-down" 60
  rc=$?
  if [ -n "$API_SOCK" ]; then api_counters "$LOGS/link-counters-down.json"; c_down=$(cval "$LOGS/link-counters-down.json" link0 link_up); fi
  link_set up
  [ $rc = 0 ] || { bad link "the guest did not see the link go down: $(why link)"; API_SOCK=""; return; }
  wait_for link "link-up" 60 || { bad link "the guest did not see the link come back: $(why link)"; API_SOCK=""; return; }
  if [ -n "$API_SOCK" ]; then api_counters "$LOGS/link-counters-up.json"; c_up=$(cval "$LOGS/link-counters-up.json" link0 link_up); fi
  wait_for link "done link" 60
  vm_exit; rc=$vm_rc
  local down up
  down=$(says link link-down) up=$(says link link-up)
  [[ $down == "carrier=0 operstate=down"* ]] || { bad link "after down: $down"; API_SOCK=""; return; }
  [[ $up == "carrier=1 operstate=up"* ]] || { bad link "after up: $up"; API_SOCK=""; return; }
  [[ $(says link ping-after) == ok* ]] || { bad link "ping after the link came back: $(says link ping-after)"; API_SOCK=""; return; }
  if [ -n "$API_SOCK" ]; then
    API_SOCK=""
    [ "$c_down" = 0 ] && [ "$c_up" = 1 ] || { bad link "vm.counters link_up: $c_down while down, $c_up after up (want 0, 1)"; return; }
  fi
  [ "$rc" = 0 ] || { bad link "exit $rc after the guest powered off: $(why link)"; return; }
  ok "link (tap down: guest $down${c_down:+, VMM link_up=$c_down}; up: guest $up${c_up:+, VMM link_up=$c_up}; ping works again)"
}

case_tap_lifetime() {
  if [ "$QEMU_MODE" = 1 ]; then skip tap-lifetime "phyllome-vmm only"; return; fi
  local old=phy-e2e-old new=phy-e2e-new before during anon
  mktap "$old" 10.77.2.1/24 || { bad tap-lifetime "cannot create the tap"; return; }
  ip link del "$new" 2>/dev/null
  before=$(list_taps)
  start_vm tap-lifetime 1 ping-out "phyllome.mac=52:54:00:e2:e0:11 phyllome.ip=10.77.1.2/24 phyllome.peer=10.77.1.1" \
    "tap=$new,ip=10.77.1.1,mask=255.255.255.0,mac=52:54:00:e2:e0:11" "tap=,mac=52:54:00:e2:e0:12" \
    "tap=$old,mac=52:54:00:e2:e0:13"
  wait_for tap-lifetime "up" 200
  local rc=$?
  during=$(list_taps)
  local addr_new state_new
  addr_new=$(ip -4 -o addr show dev "$new" 2>/dev/null | awk '{ print $4 }')
  state_new=$(ip -o link show dev "$new" 2>/dev/null | grep -o '<[^>]*>')
  anon=$(comm -13 <(echo "$before" | sort) <(echo "$during" | sort) | grep -vx "$new" | tr '\n' ' ' | sed 's/ $//')
  [ $rc = 0 ] && wait_for tap-lifetime "done ping-out" 120
  vm_exit; rc=$vm_rc
  sleep 1
  [ -n "$addr_new" ] || { bad tap-lifetime "no tap $new with an address while the VMM ran: taps $(echo $during); $(why tap-lifetime)"; return; }
  [ "$addr_new" = 10.77.1.1/24 ] || { bad tap-lifetime "$new has address $addr_new, want 10.77.1.1/24 (ip=,mask=)"; return; }
  [[ $state_new == *UP* ]] || { bad tap-lifetime "$new is not up: $state_new"; return; }
  [ -n "$anon" ] && [ "$(echo "$anon" | wc -w)" = 1 ] ||
    { bad tap-lifetime "tap= (empty name) made '${anon}' (want one new tap): before: $(echo $before), during: $(echo $during)"; return; }
  [ "$(field tap-lifetime up nics)" = 3 ] || { bad tap-lifetime "the guest has $(field tap-lifetime up nics) virtio_net NICs, want 3"; return; }
  [[ $(says tap-lifetime ping-out) == ok* ]] || { bad tap-lifetime "guest->$new (10.77.1.1) ping: $(says tap-lifetime ping-out); $(why tap-lifetime)"; return; }
  [ "$rc" = 0 ] || { bad tap-lifetime "exit $rc after the guest powered off: $(why tap-lifetime)"; return; }
  [ ! -e "/sys/class/net/$new" ] || { bad tap-lifetime "$new still exists after the VMM exited"; return; }
  [ ! -e "/sys/class/net/$anon" ] || { bad tap-lifetime "$anon (from tap=) still exists after the VMM exited"; return; }
  [ -e "/sys/class/net/$old" ] || { bad tap-lifetime "the VMM removed $old, which it did not create"; return; }
  [ "$(ip -4 -o addr show dev "$old" | awk '{ print $4 }')" = 10.77.2.1/24 ] ||
    { bad tap-lifetime "the existing tap's address changed: $(ip -4 -o addr show dev "$old")"; return; }
  ok "tap-lifetime ($new created with 10.77.1.1/24 and up, '$anon' for tap=, both gone after exit 0; existing $old kept with its address; guest pinged $new)"
}

case_bad_net() {
  if [ "$QEMU_MODE" = 1 ]; then skip bad-net "phyllome-vmm only"; return; fi
  local before v rc n=0 msgs="" args
  before=$(list_taps)
  local nine=()
  for _ in 1 2 3 4 5 6 7 8 9; do nine+=(--net tap=); done
  local -a vals=("tap=phy-e2e-01234567" "tap=phy-e2e-x,mac=zz" "tap=phy-e2e-x,num_queues=3" "tap=phy-e2e-x,foo=1" "9 NICs")
  for v in "${vals[@]}"; do
    n=$((n + 1))
    if [ "$v" = "9 NICs" ]; then args=("${nine[@]}"); else args=(--net "$v"); fi
    timeout 30 "$VMM" --kernel "$KERNEL" --initramfs "$INITRD" "${args[@]}" >/dev/null 2>"$LOGS/bad-net$n.err"
    rc=$?
    [ $rc -eq 2 ] && [ "$(wc -l <"$LOGS/bad-net$n.err")" = 1 ] && grep -q -- "--net" "$LOGS/bad-net$n.err" ||
      { bad bad-net "'$v': exit $rc (want 2), stderr ($(wc -l <"$LOGS/bad-net$n.err") lines, want 1 naming --net): $(head -3 "$LOGS/bad-net$n.err" | tr '\n' '|')"; return; }
    msgs+="; $(cat "$LOGS/bad-net$n.err")"
  done
  [ "$(list_taps)" = "$before" ] || { bad bad-net "taps left behind: $(list_taps | tr '\n' ' ') (before: $(echo $before))"; return; }
  ok "bad-net (exit 2, one line each${msgs})"
}

# --net fd=, as libvirt passes a tap: a parent (tap-fds.py) opens two
# queues of L1's multi-queue tap and execs the VMM with them inherited;
# the guest pings L1 and back through them, the VMM works on duplicates
# of its own, and the tap, which it did not create, stays with its
# address.
case_fd() {
  if [ "$QEMU_MODE" = 1 ]; then skip fd "phyllome-vmm only"; return; fi
  mktap "$TAP" "$HOST_IP/24" multi_queue || { bad fd "cannot create the tap"; return; }
  VM_WRAP=(python3 "$here/tap-fds.py" "$TAP" 2 5)
  boot_until fd 1 basic "" "wait-ping" 200 "fd=[5,6],mac=$MAC"
  local rc=$?
  VM_WRAP=()
  [ $rc = 0 ] || { bad fd "no wait-ping from the guest (rc $rc): $(why fd)"; return; }
  local hp taps=0 f
  # Only the VMM holds the tap open (mktap's tap is persistent). Counted
  # before the ping, which lets the guest go on to power off.
  for f in /proc/[0-9]*/fdinfo/*; do grep -q "^iff:.*$TAP" "$f" 2>/dev/null && taps=$((taps + 1)); done
  local seen=""
  if [ "$taps" -le 2 ]; then # what the VMM's descriptors are, for the report
    local p
    for p in $(pgrep -f "fd=\\[5,6\\]"); do
      seen="$seen pid $p ($(tr -d '\n' </proc/$p/comm 2>/dev/null)):"
      for f in /proc/$p/fd/*; do
        seen="$seen ${f##*/}->$(readlink "$f" 2>/dev/null)/$(grep -h '^iff' "/proc/$p/fdinfo/${f##*/}" 2>/dev/null | tr -d '\t')"
      done
    done
  fi
  hp=$(host_ping "$GUEST_IP")
  wait_for fd "done basic" 150
  vm_exit; rc=$vm_rc
  [ "$(field fd up mac)" = "$MAC" ] && [ "$(field fd up driver)" = virtio_net ] ||
    { bad fd "guest interface: $(says fd up)"; return; }
  [[ $(says fd ping-out) == ok* ]] || { bad fd "guest->L1 ping: $(says fd ping-out); $(why fd)"; return; }
  [[ $hp == ok* ]] || { bad fd "L1->guest ping: $hp"; return; }
  [ "$taps" -gt 2 ] || { bad fd "the VMM holds $taps descriptors of $TAP, want its 2 and duplicates;$seen"; return; }
  [ "$rc" = 0 ] || { bad fd "exit $rc after the guest powered off: $(why fd)"; return; }
  [ "$(ip -4 -o addr show dev "$TAP" | awk '{ print $4 }')" = "$HOST_IP/24" ] ||
    { bad fd "the adopted tap lost its address: $(ip -4 -o addr show dev "$TAP" 2>&1)"; return; }
  ok "fd (two inherited queues of $TAP: guest->L1 $(says fd ping-out | sed 's/ round-trip.*//'); L1->guest $hp; $taps descriptors of the tap in the VMM; the tap kept with its address after exit 0)"
}

suite_run
