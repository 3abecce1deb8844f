#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# devbench (tools/bench/devbench: a polling virtio-blk driver in guest user
# mode) under phyllome-vmm on a 16 MiB disk, each job briefly, correctness
# only: every job's line with errors=0 and the pass line on COM1, and the
# disk file afterwards holds the pattern, with sectors of this run's write
# generations. Then the test of the test: a sector corrupted on the host
# must make the guest's read job fail. The blk jobs under QEMU too, where
# it is installed.
# Usage: test-devbench.sh VMM DEVBENCH_ELF DEVBENCH_HOST WORKDIR
set -uo pipefail
vmm=$1 elf=$2 tool=$3 work=$4
mkdir -p "$work"
. "$(dirname "$0")/tap.sh"
disk=$work/disk.img
jobs="blk-randread-qd1 blk-randread-qd32 blk-randwrite-qd1 blk-randwrite-qd32 blk-read-1m blk-write-1m"

# O_DIRECT where the file system has it (the benchmark's set-up), else not.
direct=on
dd if=/dev/zero of="$work/probe" bs=4096 count=1 oflag=direct status=none 2>/dev/null || direct=off
rm -f "$work/probe"
khz=$("$tool" tsc)

run() { # NAME CMDLINE: one VMM run, serial in WORK/NAME.log
  timeout -k 5 120 "$vmm" --kernel "$elf" --memory size=64M --rng off \
    --disk "path=$disk,direct=$direct" --cmdline "$2 tsc_khz=$khz" \
    --serial "file=$work/$1.log" 2>"$work/$1.err"
}

"$tool" fill "$disk" 16
check "the disk is filled with generation 0" $? "devbench-host fill failed"

run verify "jobs=verify ms=150 ops=3000 gen=5 maxgen=20"
rc=$?
[ $rc = 0 ]; check "powers off through ACPI S5: exit 0" $? "exit $rc: $(tail -1 "$work/verify.err")"
grep -aq "^DEVBENCH device=blk .*event_idx=1" "$work/verify.log"
check "finds the virtio-blk function, EVENT_IDX negotiated" $? "$(grep -a 'DEVBENCH' "$work/verify.log" | head -3)"
for j in $jobs; do
  l=$(grep -a "^DEVBENCH job=$j " "$work/verify.log")
  # Reads check every request; writes are read back after the job.
  [[ $j == *write* ]] && l=$(grep -a "^DEVBENCH readback job=$j " "$work/verify.log")
  # A read job checks every request it completed (ops).
  [[ "$l" =~ \ verified=([1-9][0-9]*)\ errors=0$ ]] &&
    { [[ $j == *write* ]] || [[ "$l" =~ \ ops=${BASH_REMATCH[1]}\  ]]; }
  check "$j: requests completed, data checked, no errors" $? "'$l'"
done
grep -aq "^DEVBENCH job=blk-errors ops=4 verified=4 errors=0$" "$work/verify.log"
check "blk-errors: reads past and across the end get IOERR, an unknown type UNSUPP, the device goes on" $? \
  "$(grep -a 'blk-errors' "$work/verify.log")"
grep -aq "^DEVBENCH-RESULT pass" "$work/verify.log"
check "the guest reports pass" $? "$(grep -a 'DEVBENCH-' "$work/verify.log" | head -5)"
out=$("$tool" check "$disk" 20 5)
check "the disk file holds the pattern and this run's writes ($out)" $? "$out"

# Sector 77 of the file rewritten as sector 78: a sequential read of the
# whole disk must report it.
dd if="$disk" of="$disk" bs=512 skip=78 seek=77 count=1 conv=notrunc status=none
run corrupt "jobs=blk-read-1m ms=10000 ops=32 gen=30 maxgen=40"
grep -aq "^DEVBENCH-ERROR job=blk-read-1m phase=job bad-sector 0x000000000000004d" "$work/corrupt.log" &&
  grep -aq "^DEVBENCH-RESULT fail" "$work/corrupt.log"
check "a corrupted sector fails the guest's check" $? "$(grep -a 'DEVBENCH' "$work/corrupt.log" | tail -3)"
"$tool" check "$disk" 40 >/dev/null 2>&1
[ $? != 0 ]; check "and the host's check" $? "devbench-host check passed a corrupted file"

# The same driver under QEMU (microvm with ECAM, no firmware: devbench
# assigns the BARs), where QEMU is installed: a fresh disk, every blk job.
qemu=$(command -v qemu-system-x86_64)
if [ -n "$qemu" ]; then
  "$tool" fill "$disk" 16
  timeout -k 5 120 "$qemu" -M microvm,x-option-roms=off,rtc=off,pcie=on \
    -enable-kvm -cpu host,-arch-capabilities -m 64 -nodefaults -nographic \
    -serial "file:$work/qemu.log" -monitor none -no-reboot \
    -device isa-debug-exit,iobase=0xf4,iosize=4 \
    -drive "file=$disk,format=raw,if=none,cache=none,aio=io_uring,id=d" \
    -device virtio-blk-pci,drive=d,disable-legacy=on \
    -kernel "$elf" -append "jobs=verify ms=150 ops=3000 gen=50 maxgen=60 tsc_khz=$khz" \
    </dev/null >"$work/qemu.out" 2>&1
  rc=$?
  # three read jobs and three write jobs' read-backs, each without errors
  n=$(grep -ac "^DEVBENCH readback job=.* errors=0$\|^DEVBENCH job=blk-.*read.* errors=0$" "$work/qemu.log")
  [ $rc = 1 ] && grep -aq "^DEVBENCH-RESULT pass" "$work/qemu.log" && [ "$n" = 6 ] &&
    grep -aq "^DEVBENCH job=blk-errors ops=4 verified=4 errors=0$" "$work/qemu.log"
  check "under QEMU microvm too: every job passes (isa-debug-exit: exit 1)" $? \
    "exit $rc, $n job lines: $(grep -a 'DEVBENCH' "$work/qemu.log" | tail -2) $(tail -1 "$work/qemu.out")"
  out=$("$tool" check "$disk" 60 50)
  check "and the file holds QEMU's writes ($out)" $? "$out"
else
  echo "ok - # SKIP under QEMU: qemu-system-x86_64 is not installed"
fi

# The test of net-tx-tso's host check: an intact frame passes, one
# damaged anywhere fails, other TCP traffic is not taken for ours.
out=$("$tool" tso-selftest)
check "devbench-host's TSO frame check catches damaged frames" $? "$out"

# virtio-net on a tap of its own: frames out (the host's tap counts them)
# and in (devbench-host send), each checked by the guest; 64 KiB TCP
# segments out with checksum and TSO offloads (net-tx-tso), each checked
# whole on the host (devbench-host recv: headers, virtio-net header,
# payload), and in (net-rx-tso: GSO frames of devbench-host send across
# mergeable buffers, checked by the guest); requests and their answers
# (net-rr: devbench-host echo answers each, the guest checks the answer).
if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; then
  echo "ok - # SKIP virtio-net: needs root and /dev/net/tun"
  tap_done test-devbench
  exit
fi
tap=dbt$$
checker_pid=
echo_pid=
cleanup() {
  [ -n "$checker_pid" ] && kill $checker_pid 2>/dev/null
  [ -n "$echo_pid" ] && kill $echo_pid 2>/dev/null
  ip link del "$tap" 2>/dev/null
}
trap cleanup EXIT
ip tuntap add dev "$tap" mode tap && sysctl -q -w "net.ipv6.conf.$tap.disable_ipv6=1" &&
  ip link set "$tap" up
check "a tap for the guest" $? "ip tuntap add $tap failed"
rx0=$(cat "/sys/class/net/$tap/statistics/rx_packets")
"$tool" recv "$tap" 1 >"$work/recv.out" 2>&1 &
checker_pid=$!
"$tool" echo "$tap" >"$work/echo.out" 2>&1 &
echo_pid=$!
for _ in $(seq 100); do
  grep -q "^ready" "$work/recv.out" && grep -q "^ready" "$work/echo.out" && break
  sleep 0.1
done
grep -q "^ready" "$work/recv.out"
check "devbench-host recv listens on the tap" $? "$(cat "$work/recv.out")"
grep -q "^ready" "$work/echo.out"
check "devbench-host echo listens on the tap" $? "$(cat "$work/echo.out")"
# The host's senders start on the guest's begin lines: not on a
# previous run's.
rm -f "$work/net.log"
timeout -k 5 120 "$vmm" --kernel "$elf" --memory size=64M --rng off \
  --disk "path=$disk,direct=$direct" --net "tap=$tap" \
  --cmdline "jobs=net-tx,net-tx-64,net-tx-tso,net-rr,net-rx,net-rx-tso ms=300 tsc_khz=$khz" \
  --serial "file=$work/net.log" 2>"$work/net.err" &
vmm_pid=$!
for _ in $(seq 100); do
  grep -aq "^DEVBENCH begin job=net-rx" "$work/net.log" 2>/dev/null && break
  sleep 0.1
done
sent=$("$tool" send "$tap" 0.3 1514)
for _ in $(seq 100); do
  grep -aq "^DEVBENCH begin job=net-rx-tso" "$work/net.log" 2>/dev/null && break
  sleep 0.1
done
sent_tso=$("$tool" send "$tap" 0.3 tso)
wait $vmm_pid
rc=$?
kill -TERM $checker_pid
wait $checker_pid
checker_rc=$?
checker_out=$(tail -1 "$work/recv.out")
kill -TERM $echo_pid
wait $echo_pid
echo_rc=$?
echo_out=$(tail -1 "$work/echo.out")
[ $rc = 0 ] && grep -aq "^DEVBENCH-RESULT pass" "$work/net.log"
check "virtio-net jobs pass, exit 0" $? "exit $rc: $(grep -a 'DEVBENCH' "$work/net.log" | tail -3) $(tail -1 "$work/net.err")"
tx=0
for j in net-tx net-tx-64 net-tx-tso net-rr; do
  l=$(grep -a "^DEVBENCH job=$j " "$work/net.log")
  n=$(sed -n 's/.* ops=\([0-9]*\) .*/\1/p' <<<"$l")
  tx=$((tx + ${n:-0}))
  [[ "$l" =~ \ ops=[1-9][0-9]*\  ]] && [[ "$l" =~ \ errors=0$ ]]
  check "$j: frames sent, no errors" $? "'$l'"
done
l=$(grep -a "^DEVBENCH job=net-rr " "$work/net.log")
rr=$(sed -n 's/.* ops=\([0-9]*\) .*/\1/p' <<<"$l")
[ "$echo_rc" = 0 ] && [ "$echo_out" = "answered=$rr bad=0" ] && [[ "$l" =~ \ lat_p50_ns=[1-9] ]]
check "net-rr: the host answered each of the guest's $rr requests, intact; latency measured" $? \
  "rc $echo_rc: $echo_out; '$l'"
rx1=$(cat "/sys/class/net/$tap/statistics/rx_packets")
[ $((rx1 - rx0)) = $tx ]
check "the host took every frame the guest sent ($tx)" $? "tap rx_packets +$((rx1 - rx0)), guest $tx"
grep -aq "^DEVBENCH device=net .* features=4831840289$" "$work/net.log"
check "net-tx-tso: VERSION_1, EVENT_IDX, MAC, CSUM and HOST_TSO4 negotiated" $? \
  "$(grep -a '^DEVBENCH device=net' "$work/net.log")"
l=$(grep -a "^DEVBENCH job=net-tx-tso " "$work/net.log")
tso=$(sed -n 's/.* ops=\([0-9]*\) .*/\1/p' <<<"$l")
payload=$(sed -n 's/.* bytes=\([0-9]*\) .*/\1/p' <<<"$l")
[ "$payload" = $((${tso:-0} * 65160)) ]
check "net-tx-tso counts the TCP payload carried (65160 bytes a frame)" $? "'$l'"
frames=$(sed -n 's/.*frames=\([0-9]*\) .*/\1/p' <<<"$checker_out")
drops=$(sed -n 's/.* drops=\([0-9]*\) .*/\1/p' <<<"$checker_out")
[ "$checker_rc" = 0 ] && [[ "$checker_out" =~ \ bad=0\  ]] && [ "${frames:-0}" -gt 0 ] &&
  [ $((${frames:-0} + ${drops:-0})) = "${tso:-x}" ]
check "net-tx-tso: the host saw each 64 KiB segment whole, intact (or its socket dropped it)" $? \
  "rc $checker_rc: $checker_out; guest sent $tso"
l=$(grep -a "^DEVBENCH job=net-rx " "$work/net.log")
[[ "$l" =~ \ ops=[1-9][0-9]*\  ]] && [[ "$l" =~ \ errors=0$ ]]
check "net-rx: frames of the host's sender ($sent) received and checked" $? "'$l'"
grep -aq "^DEVBENCH device=net .* features=4831871138$" "$work/net.log"
check "net-rx-tso: VERSION_1, EVENT_IDX, MAC, GUEST_CSUM, GUEST_TSO4 and MRG_RXBUF negotiated" $? \
  "$(grep -a '^DEVBENCH device=net' "$work/net.log")"
l=$(grep -a "^DEVBENCH job=net-rx-tso " "$work/net.log")
[[ "$l" =~ \ ops=[1-9][0-9]*\  ]] && [[ "$l" =~ \ checked=[1-9][0-9]*\  ]] && [[ "$l" =~ \ errors=0$ ]]
check "net-rx-tso: the host's 64 KiB GSO frames ($sent_tso) arrive whole across merged buffers, checked" $? "'$l'"

tap_done test-devbench
