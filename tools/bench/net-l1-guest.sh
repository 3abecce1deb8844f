# SPDX-License-Identifier: Apache-2.0
# Sourced inside L1 by net-stress-l1.sh and net-exits-l1.sh: the network
# benchmark's guest (iperf3 -s at 10.78.0.2/24) on a tap, under phyllome-vmm
# or under QEMU q35 virtio-net-pci vhost=off (the benchmark's peer).

# net_guest_start VMM|qemu GUEST_DIR TAP SERIAL_FILE LOG [PHYLLOME-VMM ARGS...]
# Starts the VM in the background; its pid in $pid.
net_guest_start() {
  local vmm=$1 guest=$2 tap=$3 serial=$4 log=$5
  shift 5
  local cmdline="console=ttyS0 quiet cryptomgr.notests pci=noearly phyllome.action=halt-wait phyllome.iperf=1 phyllome.ip=10.78.0.2/24"
  if [ "$vmm" = qemu ]; then
    qemu-system-x86_64 -M q35 -enable-kvm -cpu host -m 512M -smp 1 -nodefaults -no-user-config \
      -nographic -serial "file:$serial" -no-reboot \
      -object memory-backend-memfd,id=ram,size=512M -machine memory-backend=ram \
      -kernel "$guest/vmlinux" -initrd "$guest/initrd.img" -append "$cmdline" \
      -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=off" \
      -device virtio-net-pci,netdev=n0,mac=52:54:00:be:ec:02 >"$log" 2>&1 &
  else
    "$vmm" --kernel "$guest/vmlinux" --initramfs "$guest/initrd.img" --memory size=512M \
      --cpus boot=1 --net "tap=$tap,mac=52:54:00:be:ec:02" --serial "file=$serial" \
      --cmdline "$cmdline" "$@" >"$log" 2>&1 &
  fi
  pid=$!
}

# net_guest_ready SERIAL_FILE: waits up to 150 s for the guest's iperf3.
net_guest_ready() {
  for _ in $(seq 300); do
    grep -qs 'PHYLLOME-IPERF: ready' "$1" && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}
