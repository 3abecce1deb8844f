#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end virtio-blk tests: the default guest plus the hook in
# tests/e2e/blk-guest (run-e2e.sh --guest-extra), whose steps report on
# "PHYLLOME-BLK: " lines. Checked from both sides: what the guest read and
# wrote, and what the image holds afterwards (debugfs reads the ext4 image
# without mounting it).
#
# Images that need O_DIRECT live on an ext4 file system on a loop device:
# in the rig, /tmp is an overlay on tmpfs, which refuses O_DIRECT.
#
# Usage: blk-suite.sh VMM GUEST_DIR LOG_DIR [CASE...] | --list
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=suite-lib.sh
. "$(dirname "$0")/suite-lib.sh"
ALL="persist readonly multi kill lock direct-refused bad-disk"
MARK=PHYLLOME-BLK
suite_args "$@"
VMM=$1

# A directory for images with O_DIRECT support.
disks=""
setup_disks() {
  [ -n "$disks" ] && return 0
  local base=${TMPDIR:-/tmp}/phy-blk-e2e.$$
  mkdir -p "$base/mnt"
  if touch "$base/probe" && dd if=/dev/zero of="$base/probe" bs=4096 count=1 oflag=direct 2>/dev/null; then
    disks=$base/mnt # the file system here does O_DIRECT already
  else
    modprobe -q loop 2>/dev/null
    modprobe -q ext4 2>/dev/null
    truncate -s 1200M "$base/fs.img" && mkfs.ext4 -q -F "$base/fs.img" &&
      mount -o loop "$base/fs.img" "$base/mnt" || { echo "# cannot make an O_DIRECT-capable file system"; return 1; }
    disks=$base/mnt
  fi
  rm -f "$base/probe"
}

# boot NAME TIMEOUT STEP ARGS...: runs the VMM with the guest step STEP.
boot() {
  local name=$1 t=$2 step=$3
  shift 3
  timeout -k 5 "$t" "$VMM" --kernel "$KERNEL" --initramfs "$INITRD" --memory size=512M \
    --serial "file=$LOGS/$name.log" \
    --cmdline "console=ttyS0 quiet phyllome.action=poweroff phyllome.blk=$step" "$@" \
    2>"$LOGS/$name.err"
}

case_persist() {
  setup_disks || { bad persist "no disk directory"; return; }
  local img=$disks/persist.img rc
  truncate -s 256M "$img"
  boot persist-write 150 write --disk "path=$img,direct=on"
  rc=$?
  [ $rc -eq 0 ] && saw persist-write "write done" || { bad persist "write boot: $(why $rc persist-write)"; return; }
  local big small
  big=$(says persist-write "sum big") small=$(says persist-write "sum small")
  # Host side: the image holds those files.
  local host_big
  host_big=$(debugfs -R "cat /big" "$img" 2>/dev/null | sha256sum | cut -d' ' -f1)
  [ "$host_big" = "$big" ] || { bad persist "the image's /big has sha256 $host_big, the guest wrote $big"; return; }
  boot persist-verify 150 verify --disk "path=$img"
  rc=$?
  [ $rc -eq 0 ] && saw persist-verify "verify done" || { bad persist "verify boot: $(why $rc persist-verify)"; return; }
  [ "$(says persist-verify "sum big")" = "$big" ] && [ "$(says persist-verify "sum small")" = "$small" ] ||
    { bad persist "checksums differ after a new VMM: $(says persist-verify "sum big") vs $big"; return; }
  ok "persist (mkfs.ext4 + 24 MiB + 200 files, direct=on; read back by a second VMM and by debugfs)"
}

case_readonly() {
  setup_disks || { bad readonly "no disk directory"; return; }
  local img=$disks/ro.img rc
  truncate -s 64M "$img"
  dd if=/dev/urandom of="$img" bs=1M count=4 conv=notrunc 2>/dev/null
  local want before
  want=$(head -c 4M "$img" | sha256sum | cut -d' ' -f1)
  before=$(sha256sum <"$img")
  boot readonly 150 readonly --disk "path=$img,readonly=on"
  rc=$?
  [ $rc -eq 0 ] || { bad readonly "$(why $rc readonly)"; return; }
  [ "$(says readonly "ro flag")" = 1 ] || { bad readonly "guest sees ro=$(says readonly "ro flag"), want 1"; return; }
  saw readonly "write refused" || { bad readonly "the guest could write to a readonly disk"; return; }
  [ "$(says readonly "sum head")" = "$want" ] || { bad readonly "guest read $(says readonly "sum head"), image has $want"; return; }
  [ "$(sha256sum <"$img")" = "$before" ] || { bad readonly "the image changed"; return; }
  ok "readonly (guest sees ro=1, its write is refused, reads match, image unchanged)"
}

case_multi() {
  setup_disks || { bad multi "no disk directory"; return; }
  local a=$disks/multi-a.img b=$disks/multi-b.img rc
  truncate -s 64M "$a" "$b"
  boot multi 200 multi --cpus boot=2 \
    --disk "path=$a,num_queues=2,id=multi-a,direct=on" --disk "path=$b,id=multi-b,queue_size=64"
  rc=$?
  [ $rc -eq 0 ] && saw multi "multi done" || { bad multi "$(why $rc multi)"; return; }
  [ "$(says multi "queues vda")" = 2 ] || { bad multi "vda has $(says multi "queues vda") queues, want 2"; return; }
  [ "$(says multi "serial vda")" = "multi-a vdb multi-b" ] || { bad multi "serials: $(says multi "serial vda")"; return; }
  local sa sb
  read -r sa sa2 <<<"$(says multi "sum a")"
  read -r sb sb2 <<<"$(says multi "sum b")"
  [ -n "$sa" ] && [ "$sa" = "$sa2" ] && [ "$sb" = "$sb2" ] || { bad multi "guest read back different data: a $sa/$sa2 b $sb/$sb2"; return; }
  [ "$(head -c 8M "$b" | sha256sum | cut -d' ' -f1)" = "$sb" ] || { bad multi "image b does not hold what the guest wrote"; return; }
  saw multi "discard ok" || { bad multi "blkdiscard failed in the guest"; return; }
  # The discarded first MiB of a reads back as zeroes.
  cmp -s -n 1048576 "$a" /dev/zero || { bad multi "discarded range of image a is not zero"; return; }
  [ "$(dd if="$a" bs=1M skip=1 count=7 2>/dev/null | sha256sum)" != "$(head -c 7M /dev/zero | sha256sum)" ] ||
    { bad multi "image a lost the data after the discarded range"; return; }
  ok "multi (2 disks, 2 queues, ids, parallel writes, discard)"
}

case_kill() {
  setup_disks || { bad kill "no disk directory"; return; }
  local img=$disks/kill.img log=$LOGS/kill.log
  truncate -s 64M "$img"
  "$VMM" --kernel "$KERNEL" --initramfs "$INITRD" --memory size=512M --serial "file=$log" \
    --cmdline "console=ttyS0 quiet phyllome.action=halt-wait phyllome.blk=kill" \
    --disk "path=$img" 2>"$LOGS/kill.err" &
  local pid=$!
  for _ in $(seq 1 300); do
    saw kill "kill ready" && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.5
  done
  kill -KILL $pid 2>/dev/null
  wait $pid 2>/dev/null
  saw kill "kill ready" || { bad kill "the guest never finished writing: $(why '?' kill)"; return; }
  local want got
  want=$(says kill "sum kill")
  got=$(head -c 16M "$img" | sha256sum | cut -d' ' -f1)
  [ "$got" = "$want" ] || { bad kill "after kill -9 the image holds $got, the guest flushed $want"; return; }
  ok "kill (16 MiB written with fsync survive kill -9 of the VMM)"
}

case_lock() {
  setup_disks || { bad lock "no disk directory"; return; }
  local img=$disks/lock.img log=$LOGS/lock.log
  truncate -s 16M "$img"
  "$VMM" --kernel "$KERNEL" --initramfs "$INITRD" --memory size=256M --serial "file=$log" \
    --cmdline "console=ttyS0 quiet phyllome.action=halt-wait" --disk "path=$img" 2>"$LOGS/lock.err" &
  local pid=$! t=0
  # The guest's first line means its VMM opened (and locked) the image
  # long before; a fixed sleep lost the race on a loaded rig.
  while ! grep -aq PHYLLOME "$log" 2>/dev/null && kill -0 $pid 2>/dev/null && [ $t -lt 120 ]; do
    sleep 0.5; t=$((t + 1))
  done
  grep -aq PHYLLOME "$log" 2>/dev/null ||
    { kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; bad lock "first VMM: $(why $? lock)"; return; }
  "$VMM" --kernel "$KERNEL" --initramfs "$INITRD" --disk "path=$img" >/dev/null 2>"$LOGS/lock2.err"
  local rc=$?
  # A read-only user of the same image is refused too: it could read torn data.
  "$VMM" --kernel "$KERNEL" --initramfs "$INITRD" --disk "path=$img,readonly=on" >/dev/null 2>"$LOGS/lock3.err"
  local rc3=$?
  kill -TERM $pid 2>/dev/null
  wait $pid 2>/dev/null
  [ $rc -eq 2 ] && [ "$(wc -l <"$LOGS/lock2.err")" = 1 ] && grep -q -- "--disk.*locked" "$LOGS/lock2.err" ||
    { bad lock "second VMM: exit $rc, stderr: $(cat "$LOGS/lock2.err")"; return; }
  [ $rc3 -eq 2 ] && grep -q "locked" "$LOGS/lock3.err" || { bad lock "read-only VMM: exit $rc3: $(cat "$LOGS/lock3.err")"; return; }
  ok "lock ($(cat "$LOGS/lock2.err"))"
}

case_direct_refused() {
  # tmpfs refuses O_DIRECT before Linux 6.6 (the rig runs 6.1); where it
  # accepts it, so must the VMM.
  local dir=/dev/shm/phy-blk-e2e.$$ img rc
  mkdir -p "$dir"
  img=$dir/direct.img
  truncate -s 16M "$img"
  if dd if=/dev/zero of="$img" bs=4096 count=1 oflag=direct conv=notrunc 2>/dev/null; then
    boot direct-accepted 150 none --disk "path=$img,direct=on"
    rc=$?
    rm -rf "$dir"
    [ $rc -eq 0 ] || { bad direct-refused "tmpfs here takes O_DIRECT but the VMM failed: $(why $rc direct-accepted)"; return; }
    ok "direct-refused (this kernel's tmpfs takes O_DIRECT: the VMM booted with direct=on)"
    return
  fi
  "$VMM" --kernel "$KERNEL" --initramfs "$INITRD" --disk "path=$img,direct=on" >/dev/null 2>"$LOGS/direct.err"
  rc=$?
  rm -rf "$dir"
  [ $rc -eq 2 ] && [ "$(wc -l <"$LOGS/direct.err")" = 1 ] && grep -q -- "--disk.*O_DIRECT" "$LOGS/direct.err" ||
    { bad direct-refused "exit $rc, stderr: $(cat "$LOGS/direct.err")"; return; }
  ok "direct-refused ($(cat "$LOGS/direct.err"))"
}

case_bad_disk() {
  "$VMM" --kernel "$KERNEL" --disk "path=$LOGS/no-such.img" >/dev/null 2>"$LOGS/bad-disk.err"
  local rc=$?
  [ $rc -eq 2 ] && grep -q -- "--disk.*no-such.img" "$LOGS/bad-disk.err" ||
    { bad bad-disk "exit $rc: $(cat "$LOGS/bad-disk.err")"; return; }
  "$VMM" --kernel "$KERNEL" --disk "path=/dev/null,queue_size=3" >/dev/null 2>"$LOGS/bad-disk2.err"
  rc=$?
  [ $rc -eq 2 ] && grep -q -- "--disk: queue_size=3" "$LOGS/bad-disk2.err" ||
    { bad bad-disk "queue_size=3: exit $rc: $(cat "$LOGS/bad-disk2.err")"; return; }
  ok "bad-disk ($(cat "$LOGS/bad-disk.err"))"
}

after_all_cases() {
  if [ -n "$disks" ] && mountpoint -q "$disks"; then umount "$disks"; fi
}

suite_run
