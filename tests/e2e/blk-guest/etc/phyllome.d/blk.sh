# SPDX-License-Identifier: Apache-2.0
# Guest half of tests/e2e/blk-suite.sh: runs the step named by
# phyllome.blk=STEP on the kernel command line and reports on
# "PHYLLOME-BLK: " lines, which the host half checks.
step=""
for arg in $(cat /proc/cmdline); do
  case $arg in phyllome.blk=*) step=${arg#phyllome.blk=} ;; esac
done
[ -n "$step" ] || return 0
say() { echo "PHYLLOME-BLK: $*"; }
sum() { sha256sum "$1" | cut -d' ' -f1; }

case $step in
  write) # a fresh ext4 with known files on vda
    mkfs.ext4 -q -F /dev/vda && say "mkfs ok"
    mount -t ext4 /dev/vda /mnt || { say "mount failed"; return 0; }
    dd if=/dev/urandom of=/mnt/big bs=1M count=24 2>/dev/null
    mkdir /mnt/small
    i=0
    while [ $i -lt 200 ]; do echo "file $i $(date +%s%N)" >/mnt/small/$i; i=$((i + 1)); done
    cat /mnt/small/* >/mnt/small.cat
    say "sum big $(sum /mnt/big)"
    say "sum small $(sum /mnt/small.cat)"
    sync
    umount /mnt && say "write done" ;;
  verify) # the files of "write", read back after a reboot of the VMM
    mount -t ext4 -o ro /dev/vda /mnt || { say "mount failed"; return 0; }
    say "sum big $(sum /mnt/big)"
    say "sum small $(cat /mnt/small/* | sha256sum | cut -d' ' -f1)"
    umount /mnt && say "verify done" ;;
  readonly) # vda is readonly=on
    say "ro flag $(cat /sys/block/vda/ro)"
    if dd if=/dev/zero of=/dev/vda bs=4096 count=1 oflag=direct 2>/dev/null; then
      say "write accepted"
    else
      say "write refused"
    fi
    say "sum head $(dd if=/dev/vda bs=1M count=4 2>/dev/null | sha256sum | cut -d' ' -f1)" ;;
  multi) # vda: num_queues=2, id=multi-a; vdb: id=multi-b
    say "queues vda $(ls /sys/block/vda/mq | wc -l)"
    say "serial vda $(cat /sys/block/vda/serial) vdb $(cat /sys/block/vdb/serial)"
    dd if=/dev/urandom of=/tmp/a bs=1M count=8 2>/dev/null
    dd if=/dev/urandom of=/tmp/b bs=1M count=8 2>/dev/null
    # Both disks at once, from both CPUs.
    dd if=/tmp/a of=/dev/vda bs=64k oflag=direct 2>/dev/null &
    dd if=/tmp/b of=/dev/vdb bs=64k oflag=direct 2>/dev/null &
    wait
    say "sum a $(sum /tmp/a) $(dd if=/dev/vda bs=1M count=8 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)"
    say "sum b $(sum /tmp/b) $(dd if=/dev/vdb bs=1M count=8 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)"
    # Discard and write-zeroes through the block layer.
    blkdiscard -o 0 -l 1048576 /dev/vda 2>/dev/null && say "discard ok"
    say "multi done" ;;
  kill) # data written and flushed, then the host kills the VMM
    dd if=/dev/urandom of=/tmp/k bs=1M count=16 2>/dev/null
    dd if=/tmp/k of=/dev/vda bs=1M conv=fsync 2>/dev/null
    say "sum kill $(sum /tmp/k)"
    say "kill ready" ;;
esac
