#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs inside L1 (tools/rig/rig-run): the network benchmark's guest on a tap
# under each VMM in turn (phyllome-vmm, QEMU q35 virtio-net-pci vhost=off),
# and for iperf3 each way counts, per GB received, L1's KVM exits by reason
# (a kvm_exit hist trigger) and the interrupts injected into the guest
# (kvm_inj_virq, kvm_msi_set_irq): what the guest and KVM pay for the
# device, beside the device's own CPU time that run-net-bench reports.
#
# Usage (from the repository root):
#   G=$(tools/guest/build-guest.sh --extra-dir ~/.cache/phyllome-vmm/net-bench/extra-* --print-dir)
#   flock /tmp/phy-rig.lock tools/rig/rig-run --share OUT -- \
#     tools/bench/net-exits-l1.sh build/phyllome-vmm "$G" OUT [SECONDS]
set -u
vmm=$1 guest=$2 out=$3 secs=${4:-8}
mkdir -p "$out"
modprobe tun
ip tuntap add dev pex0 mode tap && ip addr add 10.78.0.1/24 dev pex0 && ip link set pex0 up
T=/sys/kernel/tracing
[ -d $T/events ] || mount -t tracefs none $T
E=$T/events/kvm
. "$(dirname "$0")/net-l1-guest.sh"
hist=hist:keys=exit_reason:sort=hitcount
mhist=hist:keys=data:sort=hitcount # MSI data: the low byte is the vector
for name in phyllome-vmm qemu-q35; do
  rm -f "$out/$name.serial"
  net_guest_start "$([ $name = qemu-q35 ] && echo qemu || echo "$vmm")" "$guest" pex0 \
    "$out/$name.serial" "$out/$name.out"
  net_guest_ready "$out/$name.serial" ||
    { echo "$name: the guest did not come up"; kill $pid; wait $pid; continue; }
  for dir in "" -R; do
    what=$([ -n "$dir" ] && echo "guest->L1" || echo "L1->guest")
    echo "$hist" >$E/kvm_exit/trigger
    echo "$mhist" >$E/kvm_msi_set_irq/trigger
    S=/sys/class/net/pex0/statistics
    read -r tx0 <$S/tx_packets; read -r rx0 <$S/rx_packets
    perf stat -a -x, -e kvm:kvm_exit,kvm:kvm_inj_virq,kvm:kvm_msi_set_irq,kvm:kvm_userspace_exit \
      -o "$out/$name$dir.stat" -- timeout 60 iperf3 -c 10.78.0.2 -t "$secs" $dir -J >"$out/$name$dir.json"
    read -r tx1 <$S/tx_packets; read -r rx1 <$S/rx_packets
    echo "$((tx1 - tx0)) $((rx1 - rx0))" >"$out/$name$dir.frames"
    cp $E/kvm_exit/hist "$out/$name$dir.hist"
    echo "!$hist" >$E/kvm_exit/trigger
    cp $E/kvm_msi_set_irq/hist "$out/$name$dir.msi"
    echo "!$mhist" >$E/kvm_msi_set_irq/trigger
    python3 - "$name" "$what" "$out/$name$dir" <<'PY'
import json, sys
name, what, base = sys.argv[1:]
gb = json.load(open(base + ".json"))["end"]["sum_received"]["bytes"] / 1e9
counts = {}
for line in open(base + ".stat"):
    f = line.strip().split(",")
    if len(f) > 2 and f[0].replace(".", "").isdigit():
        counts[f[2].split(":")[-1]] = float(f[0])
# SVM exit codes (L1 is AMD): the ones a network transfer makes.
NAMES = {0x60: "intr", 0x64: "vintr", 0x72: "cpuid", 0x78: "hlt", 0x7b: "io",
         0x7c: "msr", 0x400: "npf (MMIO: kicks)"}
reasons = []
for line in open(base + ".hist"):
    if line.startswith("{ exit_reason:"):
        k = line.split("exit_reason:")[1].split("}")[0].strip()
        n = int(line.split("hitcount:")[1])
        reasons.append((n, NAMES.get(int(k), k) if k.isdigit() else k))
reasons.sort(reverse=True)
top = ", ".join(f"{k} {n / gb:.0f}" for n, k in reasons[:6])
vectors = []
for line in open(base + ".msi"):
    if line.startswith("{ data:"):
        d = int(line.split("data:")[1].split("}")[0].strip(), 0)
        vectors.append((int(line.split("hitcount:")[1]), d & 0xff))
vectors.sort(reverse=True)
to_guest, from_guest = (int(x) for x in open(base + ".frames").read().split())
top += f"; tap frames to the guest {to_guest / gb:.0f}, from it {from_guest / gb:.0f}"
top += "; MSIs by vector: " + ", ".join(f"{v:#x} {n / gb:.0f}" for n, v in vectors[:4])
print(f"{name} {what}: {gb:.2f} GB; per GB: exits {counts.get('kvm_exit', 0) / gb:.0f}, "
      f"injected {counts.get('kvm_inj_virq', 0) / gb:.0f}, MSIs {counts.get('kvm_msi_set_irq', 0) / gb:.0f}, "
      f"to userspace {counts.get('kvm_userspace_exit', 0) / gb:.0f}; by reason: {top}")
PY
  done
  kill $pid
  wait $pid 2>/dev/null
done
