#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs inside L1 (tools/rig/rig-run): boots the network benchmark's guest
# (tools/bench/run-net-bench builds it) under phyllome-vmm on a tap and runs
# iperf3 against it N times, mostly guest->L1 (-R). When a run hangs it
# prints the device's vm.counters (twice, 3 s apart), the tap's counters,
# each VMM thread's wchan, and whether the guest still answers ping, then
# stops. Made to catch a transfer that stalls (see docs/performance.md,
# Network, "Next steps").
#
# Usage (from the repository root):
#   G=$(tools/guest/build-guest.sh --extra-dir ~/.cache/phyllome-vmm/net-bench/extra-* --print-dir)
#   flock /tmp/phy-rig.lock tools/rig/rig-run --share /tmp/stress -- \
#     tools/bench/net-stress-l1.sh build/phyllome-vmm "$G" /tmp/stress [N]
set -u
vmm=$1 guest=$2 out=$3 n=${4:-14}
sock=/run/phy-stress-api.sock # not on the rig's 9p shares: no sockets there
mkdir -p "$out"
modprobe tun
ip tuntap add dev pst0 mode tap && ip addr add 10.78.0.1/24 dev pst0 && ip link set pst0 up
"$vmm" --kernel "$guest/vmlinux" --initramfs "$guest/initrd.img" --memory size=512M \
  --cpus boot=1 --net tap=pst0,mac=52:54:00:be:ec:02 --serial "file=$out/serial.log" \
  --api-socket "path=$sock" \
  --cmdline "console=ttyS0 quiet cryptomgr.notests pci=noearly phyllome.action=halt-wait phyllome.iperf=1 phyllome.ip=10.78.0.2/24" \
  >"$out/vmm.out" 2>&1 &
pid=$!
for _ in $(seq 300); do grep -qs 'PHYLLOME-IPERF: ready' "$out/serial.log" && break; sleep 0.5; done
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
    counters; sleep 3; counters
    ip -s link show pst0
    for t in /proc/$pid/task/*; do echo "$(cat "$t/comm") $(cat "$t/wchan")"; done
    busybox ping -c 3 -W 1 10.78.0.2 | tail -2
    break
  fi
done
kill "$pid"
wait "$pid"
exit $rc_all
