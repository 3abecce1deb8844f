# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=sh disable=SC2013,SC2015,SC2012
# Guest half of tools/bench/blk-bench.py: runs fio on the disk under test and
# reports on "PHYLLOME-FIO: " lines, which the host half parses. Does nothing
# unless the kernel command line has phyllome.fio=JOB[,JOB...], JOB being
# RW:BS:QD (fio's rw=, bs= and iodepth=), e.g. randread:4k:1,read:1m:8.
#   phyllome.fio_runtime=S  measured seconds per job (default 8)
#   phyllome.fio_ramp=S     unmeasured seconds before that (default 2)
#   phyllome.fio_engine=E   fio ioengine (default io_uring)
# Disks: the one whose virtio serial is phy-fio-test (else vda) is tested raw;
# the one with serial phy-fio-tools (else vdb) is an ext4 image holding
# /usr/bin/fio and its libraries at their own paths, a static busybox as
# /bin/sh and /bin/phy-fio-mark (run-blk-bench builds it), mounted read-only
# on /fio; fio runs chrooted there.
# Lines, in order: "ready ...", then per job "begin NAME", "start NAME" (from
# fio's exec_prerun, right before the job's first I/O: the host starts its CPU
# count there), "stop NAME" (exec_postrun, after the last I/O) and either
# "result NAME <fio terse v3 fields 1-90>" or "error NAME <why>"; then "done".
# NAME is RW-BS-qdQD. A failure before the jobs gives "error setup <why>".
spec="" runtime=8 ramp=2 engine=io_uring
for arg in $(cat /proc/cmdline); do
  case $arg in
    phyllome.fio=*) spec=${arg#*=} ;;
    phyllome.fio_runtime=*) runtime=${arg#*=} ;;
    phyllome.fio_ramp=*) ramp=${arg#*=} ;;
    phyllome.fio_engine=*) engine=${arg#*=} ;;
  esac
done
[ -n "$spec" ] || return 0
say() { echo "PHYLLOME-FIO: $*"; }
fail() { say "error setup $*"; say "done"; }
by_serial() {
  for d in /sys/block/vd*; do
    [ "$(cat "$d/serial" 2>/dev/null)" = "$1" ] && { echo "/dev/${d##*/}"; return; }
  done
  echo "$2"
}
test=$(by_serial phy-fio-test /dev/vda)
tools=$(by_serial phy-fio-tools /dev/vdb)
[ -b "$test" ] && [ -b "$tools" ] ||
  { fail "disks missing: want $test and $tools, have: $(ls /sys/block | tr '\n' ' ')"; return 0; }
mkdir -p /fio
mount -t ext4 -o ro "$tools" /fio 2>/tmp/mount.err ||
  { fail "cannot mount $tools: $(tail -1 /tmp/mount.err)"; return 0; }
for m in dev proc sys; do mount -o bind "/$m" "/fio/$m"; done
mount -t tmpfs tmp /fio/tmp
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu/ceph
# cwd /tmp: fio saves exec_prerun/postrun output in NAME.prerun.txt there.
runfio() { chroot /fio /bin/sh -c 'cd /tmp && exec /usr/bin/fio "$@"' fio "$@"; }
# The first start reads ~80 MiB of libraries from the tools disk: not timed.
if ver=$(runfio --version 2>/tmp/fio.err); then
  say "ready test=$test sectors=$(cat "/sys/block/${test#/dev/}/size") tools=$tools $ver engine=$engine runtime=$runtime ramp=$ramp"
  for job in $(echo "$spec" | tr ',' ' '); do
    # shellcheck disable=SC2046
    set -- $(echo "$job" | tr ':' ' ')
    name=$1-$2-qd$3
    say "begin $name"
    out=$(runfio --name="$name" --filename="$test" --rw="$1" --bs="$2" --iodepth="$3" \
      --ioengine="$engine" --direct=1 --thread --time_based --runtime="$runtime" \
      --ramp_time="$ramp" --norandommap --randrepeat=0 \
      --exec_prerun="phy-fio-mark start $name" --exec_postrun="phy-fio-mark stop $name" \
      --output-format=terse --terse-version=3 2>/tmp/fio.err)
    line=$(echo "$out" | grep '^3;' | head -1 | cut -d';' -f1-90)
    if [ -n "$line" ]; then
      say "result $name $line"
    else
      say "error $name fio: $(grep -v '^$' /tmp/fio.err | tail -1)"
    fi
  done
  say "done"
else
  fail "fio does not start: $(tail -1 /tmp/fio.err)"
fi
umount /fio/tmp /fio/sys /fio/proc /fio/dev /fio
