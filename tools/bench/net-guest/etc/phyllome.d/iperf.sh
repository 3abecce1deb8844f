# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=sh disable=SC2013
# Guest half of tools/bench/net-bench.py: configures the virtio-net
# interface, starts an iperf3 server and reports on "PHYLLOME-IPERF: "
# lines. Does nothing unless the kernel command line has phyllome.iperf=1.
#   phyllome.ip=ADDR/LEN   the guest's address (default 10.78.0.2/24)
# iperf3 and its libraries are in the initramfs at this machine's paths
# (run-net-bench adds them). Lines: "ready dev=... addr=... features=...
# iperf3=<version>" once the server listens, or "error <why>".
grep -q 'phyllome.iperf=1' /proc/cmdline || return 0
ip=10.78.0.2/24
for arg in $(cat /proc/cmdline); do
  case $arg in phyllome.ip=*) ip=${arg#*=} ;; esac
done
say() { echo "PHYLLOME-IPERF: $*"; }
dev=""
for d in /sys/class/net/*; do
  [ "$(basename "$(readlink "$d/device/driver" 2>/dev/null)")" = virtio_net ] && { dev=${d##*/}; break; }
done
[ -n "$dev" ] || { say "error no virtio_net interface: $(ls /sys/class/net | tr '\n' ' ')"; return 0; }
ip link set lo up
ip addr add "$ip" dev "$dev" && ip link set "$dev" up || { say "error cannot configure $dev"; return 0; }
ver=$(iperf3 --version 2>&1 | head -1) || { say "error iperf3 does not run: $ver"; return 0; }
iperf3 -s >/tmp/iperf3.log 2>&1 &
i=0
while ! netstat -ltn 2>/dev/null | grep -q ':5201 '; do
  i=$((i + 1))
  [ $i -gt 100 ] && { say "error iperf3 -s is not listening: $(tail -1 /tmp/iperf3.log)"; return 0; }
  sleep 0.1
done
vdev=$(basename "$(readlink "/sys/class/net/$dev/device")")
say "ready dev=$dev addr=$ip mac=$(cat "/sys/class/net/$dev/address") features=$(cat "/sys/bus/virtio/devices/$vdev/features") iperf3=$(echo "$ver" | cut -d' ' -f2)"
