#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end tests of the guest integration devices (issue 15) with the
# default guest and the hook in tests/e2e/guestdev-guest (run-e2e.sh
# --guest-extra), which touches most of the guest's RAM and frees it
# again, reporting on "PHYLLOME-GD: " lines.
#   vsock      Cloud Hypervisor's hybrid vsock with Linux's driver: two host
#              programs at once through SOCKET ("CONNECT 1234", "OK <port>")
#              and two guest connections at once to SOCKET_5000, 25 MiB
#              each, every CRC-32 equal on both sides (vsock-host.py and
#              the guest's vsock-peer)
#   socat      the same with Debian's socat at both ends (copied into the
#              guest): 50 MiB each way, two connections each way at once,
#              every sha256 equal; the host side reads each CONNECT's
#              "OK <port>" answer
#   balloon    PUT vm.resize desired_balloon=256 MiB: Linux's virtio_balloon
#              inflates to it (vm.counters' __balloon actual_bytes), the
#              VMM's RSS drops by at least 200 MiB, vm.info's
#              memory_actual_size is RAM - 256 MiB; desired_balloon=0
#              deflates it again
#   reporting  free_page_reporting=on: the freed RAM goes back to the host
#              by itself (RSS down by 200 MiB, reported_bytes counted)
#   bad-balloon  bad --balloon and --vsock values exit 2 naming the option
#   fs         virtio-fs on Debian's virtiofsd (in L1, on a directory in
#              /tmp): the guest mounts it, reads a file the host wrote and
#              writes one the host reads (sha256 equal); virtiofsd is
#              killed and started again: the guest's next read fails the
#              device (one line naming the socket, the VMM runs on; the
#              read never returns), vm.reboot, and the guest mounts the
#              new back end, both files equal; vm.counters' _fs0 says 1
#              failure and 1 reconnect
#   fs-bench   (not by default: tools/bench/run-fs-bench) the guest's
#              sequential write and read of 128 MiB and 1000 file creates
#              on the same virtiofsd, under phyllome-vmm and then under
#              QEMU's vhost-user-fs-pci (-M q35, memfd memory)
#   vsock-bench  (not by default: tools/bench/run-vsock-bench) vsock
#              throughput host to guest and guest to host (256 MiB each,
#              PHYLLOME_VSOCK_BENCH_MIB) and connections with a 1-byte
#              echo (1000, PHYLLOME_VSOCK_BENCH_CONNECTS): Debian's socat in
#              the guest, tools/bench/vsock-bench.py in L1, under
#              phyllome-vmm (--vsock) and then under QEMU's vhost-vsock-pci
#              (-M q35; modprobe vhost_vsock in L1)
#
# Usage: guestdev-suite.sh VMM GUEST_DIR LOG_DIR [CASE...] | --list
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=suite-lib.sh
. "$(dirname "$0")/suite-lib.sh"
ALL="vsock socat balloon reporting bad-balloon fs fs-bench vsock-bench"
DEFAULT_CASES="vsock socat balloon reporting bad-balloon fs"
MARK=PHYLLOME-GD
suite_args "$@"
VMM=$1
MIB=$((1024 * 1024))

# start NAME BALLOON_OPTS: the VMM in the background (pid in $vmm_pid),
# its guest filling RAM then waiting.
start() {
  local name=$1
  # Sockets in /tmp: the log directory is a 9p share in the rig.
  sock=/tmp/guestdev-suite.$$.$name.sock
  rm -f "$sock"
  "$VMM" --kernel "$KERNEL" --initramfs "$INITRD" --memory size=512M,thp=off \
    --serial "file=$LOGS/$name.log" --balloon "$2" --api-socket "path=$sock" \
    --cmdline "console=ttyS0 quiet phyllome.action=halt-wait phyllome.guestdev=fill" \
    2>"$LOGS/$name.err" &
  vmm_pid=$!
}
stop() { kill "$vmm_pid" 2>/dev/null; wait "$vmm_pid" 2>/dev/null; }
api() { curl -s -m 20 --unix-socket "$sock" "$@"; }
rss_mib() { echo $(($(awk '/^VmRSS/ {print $2}' "/proc/$vmm_pid/status") / 1024)); }
# counter NAME: the balloon's counter from vm.counters.
counter() { api http://localhost/api/v1/vm.counters | sed -n "s/.*\"__balloon\":{[^}]*\"$1\":\([0-9]*\).*/\1/p"; }
wait_saw() { # NAME TEXT SECONDS
  local i
  for ((i = 0; i < $3 * 5; i++)); do saw "$1" "$2" && return 0; kill -0 "$vmm_pid" 2>/dev/null || return 1; sleep 0.2; done
  return 1
}
wait_counter() { # NAME VALUE SECONDS
  local i
  for ((i = 0; i < $3 * 2; i++)); do [ "$(counter "$1")" = "$2" ] && return 0; sleep 0.5; done
  return 1
}

case_vsock() {
  local sock=/tmp/guestdev-suite.$$.v.sock rc
  rm -f "$sock" "${sock}_5000"
  "$VMM" --kernel "$KERNEL" --initramfs "$INITRD" --memory size=512M \
    --serial "file=$LOGS/vsock.log" --vsock "cid=3,socket=$sock" \
    --cmdline "console=ttyS0 quiet phyllome.action=poweroff phyllome.guestdev=vsock" \
    2>"$LOGS/vsock.err" &
  vmm_pid=$!
  timeout 400 python3 "$here/vsock-host.py" "$sock" "$LOGS/vsock.log" 26214400 2 >"$LOGS/vsock-host.out" 2>&1
  rc=$?
  rm -f "${sock}_5000"
  [ $rc = 0 ] || { bad vsock "host side (exit $rc): $(tail -2 "$LOGS/vsock-host.out" | tr '\n' ' ') $(why 0 vsock)"; stop; return; }
  wait_saw vsock "vsock done" 300 || { bad vsock "the guest did not finish: $(why $? vsock)"; stop; return; }
  local n=0 line
  while read -r line; do
    # "MARK: sent N CRC answer GOT N CRC": what it sent, what the host got
    local n1 c1 n2 c2
    read -r _ _ n1 c1 _ _ n2 c2 <<<"$line"
    [ "$n1 $c1" = "$n2 $c2" ] || { bad vsock "guest to host: $line"; stop; return; }
    n=$((n + 1))
  done < <(grep -a "^$MARK: sent" "$LOGS/vsock.log" | tr -d '\r')
  [ $n = 2 ] || { bad vsock "$n guest connections reported, not 2: $(why 0 vsock)"; stop; return; }
  wait "$vmm_pid"
  rc=$?
  [ $rc = 0 ] || { bad vsock "the VMM exited $rc: $(tail -1 "$LOGS/vsock.err")"; return; }
  ok "vsock (2 host-initiated and 2 guest-initiated connections at once, 25 MiB each, CRC-32 equal)"
}

case_socat() {
  local sock=/tmp/guestdev-suite.$$.s.sock data=/tmp/guestdev-suite.$$.data
  local hash=/tmp/guestdev-suite.$$.hash got=$LOGS/socat-host-got rc i
  rm -f "$sock" "${sock}_5001" "$got"
  head -c $((50 * MIB)) /dev/urandom >"$data"
  local sum
  sum=$(sha256sum <"$data" | cut -d' ' -f1)
  printf '#!/bin/sh\nsha256sum | cut -d" " -f1 >>%s\n' "$got" >"$hash"
  chmod +x "$hash"
  socat -u "UNIX-LISTEN:${sock}_5001,fork" "EXEC:$hash" &
  local listener=$!
  "$VMM" --kernel "$KERNEL" --initramfs "$INITRD" --memory size=512M \
    --serial "file=$LOGS/socat.log" --vsock "cid=3,socket=$sock" \
    --cmdline "console=ttyS0 quiet phyllome.action=poweroff phyllome.guestdev=socat" \
    2>"$LOGS/socat.err" &
  vmm_pid=$!
  finish() { kill "$listener" 2>/dev/null; rm -f "$data" "$hash" "${sock}_5001"; }
  wait_saw socat listening 300 || { bad socat "the guest did not listen: $(why $? socat)"; finish; stop; return; }
  local senders=()
  for i in 1 2; do
    { printf 'CONNECT 1235\n'; cat "$data"; } |
      timeout 300 socat -t 300 - "UNIX-CONNECT:$sock" >"$LOGS/socat-reply.$i" &
    senders+=($!)
  done
  for i in "${senders[@]}"; do wait "$i" || { bad socat "a host connection failed (exit $?)"; finish; stop; return; }; done
  wait_saw socat "socat done" 300 || { bad socat "the guest did not finish: $(why $? socat)"; finish; stop; return; }
  wait "$vmm_pid"
  rc=$?
  finish
  [ $rc = 0 ] || { bad socat "the VMM exited $rc: $(tail -1 "$LOGS/socat.err")"; return; }
  for i in 1 2; do
    grep -qx "OK [0-9]*" "$LOGS/socat-reply.$i" || { bad socat "CONNECT $i answered '$(head -c 40 "$LOGS/socat-reply.$i")'"; return; }
  done
  local theirs
  theirs=$(says socat data)
  [ "$(grep -a "^$MARK: got" "$LOGS/socat.log" | tr -d '\r' | sed "s/^$MARK: got //" | sort -u)" = "$sum" ] &&
    [ "$(grep -ac "^$MARK: got" "$LOGS/socat.log")" = 2 ] ||
    { bad socat "host to guest: sent $sum, the guest got: $(grep -a "^$MARK: got" "$LOGS/socat.log" | tr '\r\n' '  ')"; return; }
  [ "$(sort -u "$got" 2>/dev/null)" = "$theirs" ] && [ "$(wc -l <"$got")" = 2 ] ||
    { bad socat "guest to host: the guest sent $theirs, the host got: $(tr '\n' ' ' <"$got" 2>/dev/null)"; return; }
  ok "socat (Debian's socat both ends: 2 host-initiated and 2 guest-initiated connections at once, 50 MiB each, sha256 equal)"
}

case_balloon() {
  start balloon size=0
  wait_saw balloon filled 240 || { bad balloon "the guest did not fill its RAM: $(why $? balloon)"; stop; return; }
  saw balloon "balloon driver" || { bad balloon "no virtio_balloon driver in the guest"; stop; return; }
  local before after code
  before=$(rss_mib)
  code=$(api -o /dev/null -w '%{http_code}' -X PUT -d "{\"desired_balloon\":$((256 * MIB))}" \
    http://localhost/api/v1/vm.resize)
  [ "$code" = 204 ] || { bad balloon "vm.resize answered $code"; stop; return; }
  wait_counter actual_bytes $((256 * MIB)) 120 ||
    { bad balloon "the guest holds $(counter actual_bytes) bytes, not 256 MiB"; stop; return; }
  sleep 1
  after=$(rss_mib)
  [ $((before - after)) -ge 200 ] ||
    { bad balloon "RSS went from $before to $after MiB (inflated_pages $(counter inflated_pages))"; stop; return; }
  api http://localhost/api/v1/vm.info | grep -q "\"memory_actual_size\":$((256 * MIB))" ||
    { bad balloon "vm.info: $(api http://localhost/api/v1/vm.info | grep -o '"memory_actual_size":[0-9]*')"; stop; return; }
  api -o /dev/null -X PUT -d '{"desired_balloon":0}' http://localhost/api/v1/vm.resize
  wait_counter actual_bytes 0 120 || { bad balloon "deflating: the guest still holds $(counter actual_bytes)"; stop; return; }
  local deflated
  deflated=$(counter deflated_pages)
  stop
  [ "${deflated:-0}" -ge 65536 ] || { bad balloon "deflated_pages $deflated"; return; }
  ok "balloon (256 MiB inflated: RSS $before -> $after MiB, memory_actual_size 256 MiB; deflated again)"
}

case_reporting() {
  start reporting size=0,free_page_reporting=on
  wait_saw reporting filled 240 || { bad reporting "the guest did not fill its RAM: $(why $? reporting)"; stop; return; }
  local peak=0 now i
  # Linux reports free pages 2 s after they are freed, in 4 MiB blocks,
  # a batch at a time: wait for the RSS to come down, not just for the
  # first 200 MiB reported (CI: RSS still 268 MiB 1 s after that).
  for ((i = 0; i < 90; i++)); do
    now=$(rss_mib)
    [ "$now" -gt "$peak" ] && peak=$now
    [ "$(counter reported_bytes)" -ge $((200 * MIB)) ] 2>/dev/null && [ "$now" -lt 200 ] && break
    sleep 1
  done
  now=$(rss_mib)
  local reported
  reported=$(counter reported_bytes)
  stop
  [ "${reported:-0}" -ge $((200 * MIB)) ] || { bad reporting "reported_bytes ${reported:-none}"; return; }
  [ "$now" -lt 200 ] || { bad reporting "RSS is still $now MiB (peak $peak)"; return; }
  ok "reporting (free_page_reporting=on: $((reported / MIB)) MiB reported, RSS $now MiB)"
}

case_bad_balloon() {
  local v out rc
  for v in "--balloon size=1G" "--balloon size=4097" "--balloon deflate_on_oom=on" \
           "--balloon size=64M,x=1" "--vsock cid=2,socket=/tmp/v" "--vsock cid=3" \
           "--vsock cid=4294967295,socket=/tmp/v"; do
    # shellcheck disable=SC2086
    out=$("$VMM" --kernel "$KERNEL" --memory size=512M $v 2>&1 >/dev/null)
    rc=$?
    [ $rc = 2 ] && [ "$(echo "$out" | wc -l)" = 1 ] && [[ $out == *"${v%% *}:"* ]] ||
      { bad bad-balloon "'$v': exit $rc, '$out'"; return; }
  done
  ok "bad-balloon (bad --balloon and --vsock values: one line naming the option, exit 2)"
}

# virtiofsd on DIR at SOCKET, in the background (pid in $fsd_pid); waits
# for its socket.
virtiofsd_start() {
  rm -f "$2"
  /usr/lib/qemu/virtiofsd --socket-path="$2" -o source="$1" -o cache=none \
    >>"$LOGS/virtiofsd.log" 2>&1 &
  fsd_pid=$!
  local i
  for ((i = 0; i < 50; i++)); do [ -S "$2" ] && return 0; sleep 0.2; done
  return 1
}

case_fs() {
  local dir=/tmp/guestdev-suite.$$.fs fsock=/tmp/guestdev-suite.$$.fs.sock host_sum got
  sock=/tmp/guestdev-suite.$$.fs.api
  rm -rf "$dir" "$sock" && mkdir -p "$dir"
  head -c $((4 * MIB)) /dev/urandom >"$dir/host.bin"
  host_sum=$(sha256sum <"$dir/host.bin" | cut -c1-64)
  virtiofsd_start "$dir" "$fsock" || { bad fs "virtiofsd did not start: $(tail -2 "$LOGS/virtiofsd.log")"; return; }
  "$VMM" --kernel "$KERNEL" --initramfs "$INITRD" --memory size=512M,shared=on \
    --serial "file=$LOGS/fs.log" --fs "tag=hostfs,socket=$fsock" --api-socket "path=$sock" \
    --cmdline "console=ttyS0 quiet phyllome.action=halt-wait phyllome.guestdev=fs" \
    2>"$LOGS/fs.err" &
  vmm_pid=$!
  local err=""
  wait_saw fs "fs wait" 240 || err="the guest did not write its file: $(why $? fs)"
  [ -n "$err" ] || [ "$(says fs "fs host")" = "$host_sum" ] || err="the guest read host.bin as $(says fs "fs host")"
  got=$(sha256sum <"$dir/guest.bin" 2>/dev/null | cut -c1-64)
  [ -n "$err" ] || [ "$(says fs "fs guest")" = "$got" ] || err="guest.bin: the guest wrote $(says fs "fs guest"), the host reads $got"
  # The back end dies and comes back while the guest runs: the VMM hands
  # the device to the new one, the guest's access fails and it mounts
  # again, no reboot.
  kill -9 "$fsd_pid"; wait "$fsd_pid" 2>/dev/null
  [ -n "$err" ] || virtiofsd_start "$dir" "$fsock" || err="virtiofsd did not start again"
  [ -n "$err" ] || wait_saw fs "fs error after" 180 || err="the guest's access did not fail: $(why $? fs)"
  [ -n "$err" ] || wait_saw fs "fs again" 120 || err="the guest did not mount again: $(why $? fs)"
  local again2
  again2=$(sha256sum <"$dir/guest2.bin" 2>/dev/null | cut -c1-64)
  [ -n "$err" ] || [ "$(says fs "fs again")" = "host $host_sum guest $again2" ] ||
    err="after the restart: the guest says $(says fs "fs again"), the host has guest2.bin $again2"
  [ -n "$err" ] || { grep "vhost-user back end at $fsock: lost" "$LOGS/fs.err" >/dev/null &&
                     grep "vhost-user back end at $fsock: back" "$LOGS/fs.err" >/dev/null; } ||
    err="the VMM did not log the loss and the return: $(tail -3 "$LOGS/fs.err")"
  [ -n "$err" ] || ! grep -q "needs a reset" "$LOGS/fs.err" || err="the device failed: $(grep "needs a reset" "$LOGS/fs.err")"
  local counters
  counters=$(api http://localhost/api/v1/vm.counters | grep -o '"_fs0":{[^}]*}')
  [ -n "$err" ] || [[ $counters == *'"reconnects":1,"failures":1}' ]] || err="vm.counters: $counters"
  stop
  kill "$fsd_pid" 2>/dev/null; wait "$fsd_pid" 2>/dev/null
  rm -rf "$dir" "$fsock" "$sock"
  [ -z "$err" ] || { bad fs "$err"; return; }
  ok "fs (virtiofsd: the guest read 4 MiB and wrote 3 MiB, sha256 equal; virtiofsd killed and restarted: the VMM reconnected, the guest's access failed ($(says fs "fs error")), it mounted again, read 4 MiB and wrote 1 MiB, sha256 equal, no reboot; $counters)"
}

# One VM of the benchmark (phyllome-vmm or qemu) on a fresh virtiofsd:
# prints the guest's "bench" line's numbers.
fs_bench_one() {
  local which=$1 dir=/tmp/guestdev-suite.$$.fsb fsock=/tmp/guestdev-suite.$$.fsb.sock
  local cmdline="console=ttyS0 quiet phyllome.action=poweroff phyllome.guestdev=fsbench"
  rm -rf "$dir" && mkdir -p "$dir"
  virtiofsd_start "$dir" "$fsock" || return 1
  if [ "$which" = qemu ]; then
    timeout -k 5 600 qemu-system-x86_64 -M q35 -enable-kvm -cpu host -m 512M \
      -object memory-backend-memfd,id=mem,size=512M,share=on -numa node,memdev=mem \
      -chardev "socket,id=fs0,path=$fsock" -device vhost-user-fs-pci,chardev=fs0,tag=hostfs,queue-size=1024 \
      -nodefaults -no-user-config -display none -no-reboot -serial "file:$LOGS/fsb-$which.log" \
      -kernel "$KERNEL" -initrd "$INITRD" -append "$cmdline" </dev/null >/dev/null 2>"$LOGS/fsb-$which.err"
  else
    timeout -k 5 600 "$VMM" --kernel "$KERNEL" --initramfs "$INITRD" --memory size=512M,shared=on \
      --serial "file=$LOGS/fsb-$which.log" --fs "tag=hostfs,socket=$fsock" --cmdline "$cmdline" \
      </dev/null >/dev/null 2>"$LOGS/fsb-$which.err"
  fi
  kill "$fsd_pid" 2>/dev/null; wait "$fsd_pid" 2>/dev/null
  rm -rf "$dir" "$fsock"
  says "fsb-$which" "bench"
}

case_fs_bench() {
  local which line w r c report=""
  for which in phyllome-vmm qemu; do
    line=$(fs_bench_one "$which")
    read -r _ w _ r _ c <<<"$line"
    [ -n "${c:-}" ] && [ "$w" -gt 0 ] && [ "$r" -gt 0 ] && [ "$c" -gt 0 ] ||
      { bad fs-bench "$which: no numbers: $(why 0 "fsb-$which")"; return; }
    report+="$which: write $((12800 / w)) MiB/s, read $((12800 / r)) MiB/s, $((100000 / c)) creates/s; "
  done
  echo "# fs-bench: $report"
  ok "fs-bench ($report)"
}

# One VM of the vsock benchmark, phyllome-vmm (--vsock, the hybrid
# socket) or qemu (vhost-vsock-pci: AF_VSOCK in L1): prints
# vsock-bench.py's "vsock-bench ..." line.
vsock_bench_one() {
  local which=$1 vsock=/tmp/guestdev-suite.$$.vsb.sock bytes=$2 n=$3 peer rc i
  local cmdline="console=ttyS0 quiet phyllome.action=poweroff phyllome.guestdev=vsockbench phyllome.vsockbench=$bytes"
  rm -f "$vsock"
  if [ "$which" = qemu ]; then
    qemu-system-x86_64 -M q35 -enable-kvm -cpu host -m 512M -smp 1 -name qemu,debug-threads=on \
      -device vhost-vsock-pci,guest-cid=3 \
      -nodefaults -no-user-config -display none -no-reboot -serial "file:$LOGS/vsock-bench-$which.log" \
      -kernel "$KERNEL" -initrd "$INITRD" -append "$cmdline" </dev/null >/dev/null 2>"$LOGS/vsock-bench-$which.err" &
    peer=(--cid 3)
  else
    "$VMM" --kernel "$KERNEL" --initramfs "$INITRD" --memory size=512M --cpus boot=1 \
      --serial "file=$LOGS/vsock-bench-$which.log" --vsock "cid=3,socket=$vsock" --cmdline "$cmdline" \
      </dev/null >/dev/null 2>"$LOGS/vsock-bench-$which.err" &
    peer=(--socket "$vsock")
  fi
  vmm_pid=$!
  wait_saw "vsock-bench-$which" "vsockbench listening" 300 || { echo "the guest did not listen: $(why $? "vsock-bench-$which")"; stop; return 1; }
  timeout 600 python3 "$here/../../tools/bench/vsock-bench.py" "${peer[@]}" --pid "$vmm_pid" \
    --bytes "$bytes" --connects "$n" >"$LOGS/vsock-bench-$which.out" 2>&1
  rc=$?
  [ $rc = 0 ] || { echo "vsock-bench.py exit $rc: $(tail -2 "$LOGS/vsock-bench-$which.out" | tr '\n' ' ') $(why 0 "vsock-bench-$which")"; stop; return 1; }
  wait_saw "vsock-bench-$which" "vsockbench done" 60 || { echo "the guest did not finish: $(why $? "vsock-bench-$which")"; stop; return 1; }
  for ((i = 0; i < 300; i++)); do kill -0 "$vmm_pid" 2>/dev/null || break; sleep 0.2; done
  stop
  rm -f "$vsock"
  grep '^vsock-bench ' "$LOGS/vsock-bench-$which.out"
}

# vsb_field LINE KEY: KEY's value in a "vsock-bench k=v ..." line.
vsb_field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

case_vsock_bench() {
  local mib=${PHYLLOME_VSOCK_BENCH_MIB:-256} n=${PHYLLOME_VSOCK_BENCH_CONNECTS:-1000}
  local which line report="" qemu=1 k
  modprobe vhost_vsock 2>"$LOGS/modprobe.err" && [ -c /dev/vhost-vsock ] || qemu=0
  for which in phyllome-vmm qemu; do
    if [ "$which" = qemu ] && [ $qemu = 0 ]; then
      report+="qemu: not run, no vhost_vsock in L1 ($(tail -1 "$LOGS/modprobe.err")); "
      continue
    fi
    line=$(vsock_bench_one "$which" $((mib * MIB)) "$n") ||
      { bad vsock-bench "$which: $line"; return; }
    echo "# vsock-bench $which: ${line#vsock-bench }"
    report+="$which: host to guest $(vsb_field "$line" h2g_mibs) MiB/s, guest to host $(vsb_field "$line" g2h_mibs) MiB/s,"
    report+=" $(vsb_field "$line" connects_per_s) connects/s (VMM CPU s, all threads / vCPU:"
    for k in h2g g2h connect; do
      report+=" $k $(vsb_field "$line" ${k}_cpu_s)/$(vsb_field "$line" ${k}_vcpu_s)"
    done
    report+="); "
  done
  echo "# vsock-bench: $mib MiB each way, $n connects; $report"
  [ $qemu = 1 ] || { bad vsock-bench "no vhost_vsock in L1: phyllome-vmm only ($report)"; return; }
  ok "vsock-bench ($report)"
}

suite_run
