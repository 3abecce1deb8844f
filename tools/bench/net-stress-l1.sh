#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs inside L1 (tools/rig/rig-run): boots the network benchmark's guest
# (tools/bench/run-net-bench builds it) under phyllome-vmm (or QEMU, when VMM
# is "qemu") on a tap and runs
# iperf3 against it N times, mostly guest->L1 (-R). When a run hangs it
# prints the device's vm.counters (twice, 3 s apart), the tap's counters,
# each VMM thread's wchan, and whether the guest still answers ping, then
# stops. Made to catch a transfer that stalls; what it found is in
# docs/performance.md (Network, "The rig's own failures under load").
#
# Usage (from the repository root):
#   G=$(tools/guest/build-guest.sh --extra-dir ~/.cache/phyllome-vmm/net-bench/extra-* --print-dir)
#   flock /tmp/phy-rig.lock tools/rig/rig-run --share /tmp/stress -- \
#     tools/bench/net-stress-l1.sh build/phyllome-vmm|qemu "$G" /tmp/stress [N]
# (--env TRACE=1 for the kvm:* trace)
set -u
vmm=$1 guest=$2 out=$3 n=${4:-14}
sock=/run/phy-stress-api.sock # not on the rig's 9p shares: no sockets there
mkdir -p "$out"
modprobe tun
ip tuntap add dev pst0 mode tap && ip addr add 10.78.0.1/24 dev pst0 && ip link set pst0 up
# TRACE=1: L1's kvm:* events into a ring buffer, stopped at the first
# nested page fault in a guest page-table walk above the guest's RAM (the
# signature of the rig's guest deaths, docs/performance.md); its tail goes
# to OUT/trace.txt when a run hangs.
T=/sys/kernel/tracing
if [ -n "${TRACE:-}" ]; then
  [ -d $T/events ] || mount -t tracefs none $T
  echo 4096 >$T/buffer_size_kb
  for e in kvm_exit kvm_inj_exception kvm_inj_virq kvm_userspace_exit kvm_page_fault kvm_msr; do
    echo 1 >$T/events/kvm/$e/enable
  done
  echo 'traceoff if error_code & 0x200000000 && address >= 0x20000000' >$T/events/kvm/kvm_page_fault/trigger
  echo 1 >$T/tracing_on
fi
. "$(dirname "$0")/net-l1-guest.sh"
net_guest_start "$vmm" "$guest" pst0 "$out/serial.log" "$out/vmm.out" --api-socket "path=$sock"
net_guest_ready "$out/serial.log"
counters() { curl -s --unix-socket "$sock" http://localhost/api/v1/vm.counters; echo; }
rc_all=0
for i in $(seq "$n"); do
  dir=-R
  [ $((i % 3)) = 0 ] && dir=""
  timeout 40 iperf3 -c 10.78.0.2 -t 5 $dir >"$out/iperf-$i.txt" 2>&1
  rc=$?
  echo "run $i ${dir:-(L1->guest)} rc=$rc $(grep receiver "$out/iperf-$i.txt" | awk '{print $7, $8}')"
  if [ $rc != 0 ]; then
    rc_all=1
    echo "STALL"
    if [ -n "${TRACE:-}" ]; then echo 0 >$T/tracing_on; tail -40000 $T/trace >"$out/trace.txt"; fi
    counters; sleep 3; counters
    ip -s link show pst0
    for t in /proc/$pid/task/*; do echo "$(cat "$t/comm") $(cat "$t/wchan")"; done
    busybox ping -c 3 -W 1 10.78.0.2 | tail -2
    break
  fi
done
kill "$pid"
wait "$pid"
dmesg | tail -40 >"$out/dmesg.txt"
exit $rc_all
