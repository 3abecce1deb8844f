# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=sh disable=SC2013,SC2015
# Guest half of tests/e2e/net-suite.sh: runs the step named by
# phyllome.net=STEP on the kernel command line and reports on
# "PHYLLOME-NET: " lines, which the host half (in L1) checks.
#   phyllome.ip=ADDR/LEN     the guest's address (default 10.77.0.2/24)
#   phyllome.peer=ADDR       L1's address on the tap (default 10.77.0.1)
#   phyllome.mac=MAC         use the virtio_net interface with this MAC (else
#                            the first one)
#   phyllome.net_mb=N        MiB per direction in "xfer" (default 200)
#   phyllome.net_streams=N   streams per direction in "mq" (default 4)
#   phyllome.net_mb_stream=N MiB per stream in "mq" (default 16)
# Every connection is opened by the guest (busybox nc) to a port where L1
# listens, so neither side races the other's listen(); with MQ the flow's
# first packet leaves on the tx queue of the CPU the stream is pinned to,
# the tap learns the flow there and answers on the same queue pair.
# The host signals the guest by pinging it: wait_host waits for Icmp
# InEchos (/proc/net/snmp) to grow (by 3 in "basic", L1's ping -c 3).
step="" ip=10.77.0.2/24 peer=10.77.0.1 mac="" mb=200 streams=4 mb_stream=16
for arg in $(cat /proc/cmdline); do
  case $arg in
    phyllome.net=*) step=${arg#*=} ;;
    phyllome.ip=*) ip=${arg#*=} ;;
    phyllome.peer=*) peer=${arg#*=} ;;
    phyllome.mac=*) mac=${arg#*=} ;;
    phyllome.net_mb=*) mb=${arg#*=} ;;
    phyllome.net_streams=*) streams=${arg#*=} ;;
    phyllome.net_mb_stream=*) mb_stream=${arg#*=} ;;
  esac
done
[ -n "$step" ] || return 0
say() { echo "PHYLLOME-NET: $*"; }
words() { tr '\n' ' ' | sed 's/ *$//'; }
now() { cut -d' ' -f1 /proc/uptime; }
in_echos() {
  awk '/^Icmp:/ { if (!n) { for (i = 2; i <= NF; i++) if ($i == "InEchos") c = i; n = 1 } else print $c }' /proc/net/snmp
}
# wait_host N SECS: until InEchos >= N (the host pinged us)
wait_host() {
  t=0
  while [ "$(in_echos)" -lt "$1" ]; do
    t=$((t + 1))
    [ $t -gt $(($2 * 10)) ] && return 1
    sleep 0.1
  done
}
# irq NAME: interrupts of the vector whose name ends in NAME, all CPUs
irq() {
  awk -v n="$1" 'NR == 1 { ncpu = NF; next }
    $NF ~ ("-" n "$") { s = 0; for (i = 2; i <= ncpu + 1; i++) s += $i; print s; f = 1 }
    END { if (!f) print "none" }' /proc/interrupts
}
# wait_carrier V SECS
wait_carrier() {
  t=0
  while [ "$(cat "/sys/class/net/$dev/carrier" 2>/dev/null)" != "$1" ]; do
    t=$((t + 1))
    [ $t -gt $(($2 * 10)) ] && return 1
    sleep 0.1
  done
}

# The interface under test, configured; "up ..." or "error ...".
dev=""
up() {
  for d in /sys/class/net/*; do
    [ "$(basename "$(readlink "$d/device/driver" 2>/dev/null)")" = virtio_net ] || continue
    [ -z "$mac" ] || [ "$(cat "$d/address")" = "$mac" ] || continue
    dev=${d##*/}
    break
  done
  if [ -z "$dev" ]; then
    say "error no virtio_net interface${mac:+ with MAC $mac}: have $(ls /sys/class/net | words);" \
      "virtio_net loaded: $(grep -c '^virtio_net ' /proc/modules)"
    return 1
  fi
  ip link set lo up
  ip addr add "$ip" dev "$dev" && ip link set "$dev" up ||
    { say "error cannot configure $dev with $ip"; return 1; }
  wait_carrier 1 20
  d=/sys/class/net/$dev
  vdev=$(basename "$(readlink "$d/device")")
  say "up dev=$dev addr=$(ip -4 -o addr show dev "$dev" | awk '{ print $4 }') mac=$(cat "$d/address")" \
    "carrier=$(cat "$d/carrier") operstate=$(cat "$d/operstate") mtu=$(cat "$d/mtu")" \
    "driver=$(basename "$(readlink "$d/device/driver")") rxq=$(ls -d "$d"/queues/rx-* | wc -l)" \
    "txq=$(ls -d "$d"/queues/tx-* | wc -l) nics=$(ls -d /sys/bus/virtio/drivers/virtio_net/virtio* 2>/dev/null | wc -l)" \
    "features=$(cat "/sys/bus/virtio/devices/$vdev/features")"
}
ping_peer() { # ping_peer WHAT: "WHAT ok <summary>" or "WHAT failed <why>"
  if ping -c 3 -w 20 "$peer" >/tmp/ping.out 2>&1; then
    say "$1 ok $(grep -E 'packets|round-trip' /tmp/ping.out | words)"
  else
    say "$1 failed $(tail -3 /tmp/ping.out | words)"
  fi
}
pin="" # a prefix for nc, e.g. "taskset -c 1"
# Received data goes straight into sha256sum; sent data is made in a tmpfs
# file first and sent from there: under nested virtualization every switch
# between two processes costs much, and busybox nc moves 1 KiB per read and
# write: "cat | nc" sent 2 MB/s under QEMU in the rig, "nc <file" 12 MB/s;
# "nc >file" received 4 MB/s (a 1 KiB tmpfs write each), "nc | sha256sum"
# 11 MB/s.
# recv PORT OUT: connect to PORT on the peer, read to EOF; OUT gets
# "- <sha256> <seconds>" (the sum says the length too)
recv() {
  t0=$(now)
  $pin nc "$peer" "$1" </dev/null 2>"/tmp/nc-r$1.err" | sha256sum >"/tmp/sum-r$1"
  t1=$(now)
  echo "- $(cut -d' ' -f1 "/tmp/sum-r$1") $(echo "$t1 $t0" | awk '{ print $1 - $2 }')" >"$2"
}
# send PORT MIB OUT: MIB of /dev/urandom to PORT on the peer; OUT gets
# "<bytes> <sha256> <seconds>"
send() {
  dd if=/dev/urandom of="/tmp/data-s$1" bs=64k count=$(($2 * 16)) 2>/dev/null
  sum=$(sha256sum "/tmp/data-s$1" | cut -d' ' -f1)
  t0=$(now)
  $pin nc "$peer" "$1" <"/tmp/data-s$1" >/dev/null 2>"/tmp/nc-s$1.err"
  t1=$(now)
  echo "$(wc -c <"/tmp/data-s$1") $sum $(echo "$t1 $t0" | awk '{ print $1 - $2 }')" >"$3"
  rm -f "/tmp/data-s$1"
}

case $step in
  basic) # address, then ping L1, and L1 pings us
    up || return 0
    ping_peer ping-out
    n=$(in_echos)
    say "wait-ping in_echos=$n"
    if wait_host $((n + 3)) 120; then say "ping-in ok in_echos=$(in_echos)"; else say "ping-in failed in_echos=$(in_echos)"; fi ;;
  xfer) # MiB from L1 (port 7002), then MiB to L1 (port 7003)
    up || return 0
    recv 7002 /tmp/rx
    say "rx $(cat /tmp/rx) nc=$(head -c 200 /tmp/nc-r7002.err | words)"
    send 7003 "$mb" /tmp/tx
    say "tx $(cat /tmp/tx) nc=$(head -c 200 /tmp/nc-s7003.err | words)" ;;
  mq) # streams each way in parallel, stream i pinned to CPU i % CPUs
    up || return 0
    ncpu=$(grep -c '^processor' /proc/cpuinfo)
    names="input.0 input.1 output.0 output.1"
    before=""
    for q in $names; do before="$before $(irq "$q")"; done
    say "mq-start cpus=$ncpu irqs_before=$(echo $before | tr ' ' ,)"
    i=0
    while [ $i -lt "$streams" ]; do
      (pin="taskset -c $((i % ncpu))"; recv $((7010 + i)) /tmp/mq-r$i) &
      (pin="taskset -c $((i % ncpu))"; send $((7030 + i)) "$mb_stream" /tmp/mq-s$i) &
      i=$((i + 1))
    done
    wait
    i=0
    while [ $i -lt "$streams" ]; do
      say "mq-stream $i rx $(cat /tmp/mq-r$i) tx $(cat /tmp/mq-s$i)"
      i=$((i + 1))
    done
    set -- $before
    out=""
    for q in $names; do
      a=$(irq "$q")
      case "$a$1" in *none*) out="$out $q=none" ;; *) out="$out $q=$((a - $1))" ;; esac
      shift
    done
    say "mq-irqs$out"
    say "mq-vectors $(awk 'NR > 1 && $NF ~ /^virtio/ { print $NF }' /proc/interrupts | words)"
    n=$(in_echos)
    say "mq-done in_echos=$n"
    wait_host $((n + 1)) 60 || say "mq no ping from the host" ;;
  link) # L1 takes the tap down, then up again
    up || return 0
    say "link-ready carrier=$(cat "/sys/class/net/$dev/carrier")"
    if wait_carrier 0 120; then
      say "link-down carrier=$(cat "/sys/class/net/$dev/carrier") operstate=$(cat "/sys/class/net/$dev/operstate")"
    else
      say "link-down timeout carrier=$(cat "/sys/class/net/$dev/carrier")"; return 0
    fi
    if wait_carrier 1 120; then
      sleep 0.5
      say "link-up carrier=$(cat "/sys/class/net/$dev/carrier") operstate=$(cat "/sys/class/net/$dev/operstate")"
    else
      say "link-up timeout carrier=$(cat "/sys/class/net/$dev/carrier")"; return 0
    fi
    ping_peer ping-after ;;
  ping-out) # address, ping L1, done
    up || return 0
    ping_peer ping-out ;;
  *) say "error unknown step $step"; return 0 ;;
esac
say "done $step"
