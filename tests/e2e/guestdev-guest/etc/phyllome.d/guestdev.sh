# SPDX-License-Identifier: Apache-2.0
# Guest half of tests/e2e/guestdev-suite.sh (vsock-peer in /bin comes from
# guestdev-e2e.sh): with phyllome.guestdev=vsock, serves two host
# connections and opens two of its own; with phyllome.guestdev=socat, the
# same with Debian's socat (50 MiB each, sha256 on "got" lines); with
# phyllome.guestdev=vsockbench, socat's listeners for the vsock benchmark
# (tools/bench/run-vsock-bench); with phyllome.guestdev=fill,
# touches most of the guest's free RAM (a file on a tmpfs, removed again:
# the pages are free in the guest and resident in the host), says so on a
# "PHYLLOME-GD: " line and reports the balloon driver; the host half then
# drives the balloon and watches the VMM's RSS.
step=""
for arg in $(cat /proc/cmdline); do
  case $arg in phyllome.guestdev=*) step=${arg#phyllome.guestdev=} ;; esac
done
[ -n "$step" ] || return 0
say() { echo "PHYLLOME-GD: $*"; }
case $step in
  fill)
    [ -d /sys/bus/virtio/drivers/virtio_balloon ] && say "balloon driver" || say "no balloon driver"
    # 360 MiB of the guest's ~455: the initramfs (socat's libraries,
    # virtiofs) lives in RAM too, and 400 ran the guest out of memory
    mkdir -p /fill && mount -t tmpfs -o size=380m none /fill
    dd if=/dev/zero of=/fill/f bs=1M count=360 2>/dev/null
    rm -f /fill/f
    umount /fill
    say "filled $(grep MemFree /proc/meminfo | tr -s ' ')" ;;
  fs) # the host's directory; the host kills and restarts virtiofsd while
      # the guest waits, and the VMM hands the device to the new one: the
      # guest's FUSE session was with the old one, so its next access fails
      # (reads go on until one does: the host kills when it sees "fs wait");
      # the guest mounts the share again, without a reboot
    modprobe virtiofs
    mkdir -p /mnt/h
    mount -t virtiofs hostfs /mnt/h || { say "fs mount failed"; return 0; }
    say "fs host $(sha256sum </mnt/h/host.bin | cut -c1-64)"
    dd if=/dev/urandom of=/mnt/h/guest.bin bs=64k count=48 2>/dev/null
    sync
    say "fs guest $(sha256sum </mnt/h/guest.bin | cut -c1-64)"
    say "fs wait"
    n=0
    while cat /mnt/h/host.bin >/dev/null 2>&1 && [ $n -lt 120 ]; do sleep 1; n=$((n + 1)); done
    [ $n -lt 120 ] || { say "fs no error"; return 0; }
    say "fs error after $n s"
    umount /mnt/h 2>/dev/null || umount -l /mnt/h
    mount -t virtiofs hostfs /mnt/h || { say "fs remount failed"; return 0; }
    dd if=/dev/urandom of=/mnt/h/guest2.bin bs=64k count=16 2>/dev/null
    sync
    say "fs again host $(sha256sum </mnt/h/host.bin | cut -c1-64) guest $(sha256sum </mnt/h/guest2.bin | cut -c1-64)"
    sleep 100000 ;;
  fsbench) # tools/bench/run-fs-bench: sequential write and read of 128 MiB
      # (cache=none: every byte through virtio-fs), then 1000 files
      # created; times in centiseconds of /proc/uptime
    modprobe virtiofs
    mkdir -p /mnt/h
    mount -t virtiofs hostfs /mnt/h || { say "bench mount failed"; return 0; }
    cs() { cut -d' ' -f1 /proc/uptime | tr -d .; }
    a=$(cs)
    dd if=/dev/zero of=/mnt/h/seq bs=1M count=128 conv=fsync 2>/dev/null
    b=$(cs)
    dd if=/mnt/h/seq of=/dev/null bs=1M 2>/dev/null
    c=$(cs)
    mkdir /mnt/h/many
    i=0
    while [ $i -lt 1000 ]; do : >/mnt/h/many/f$i; i=$((i + 1)); done
    d=$(cs)
    say "bench write_cs $((b - a)) read_cs $((c - b)) create_cs $((d - c))"
    umount /mnt/h ;;
  vsockbench) # tools/bench/run-vsock-bench: Debian's socat listens for
      # tools/bench/vsock-bench.py in the host: port 1240 reads to the end
      # (host to guest), 1241 sends phyllome.vsockbench= bytes of zeroes
      # (guest to host), 1242 echoes (a connection and a byte each); a
      # connection to 1249 ends it
    n=268435456
    for arg in $(cat /proc/cmdline); do
      case $arg in phyllome.vsockbench=*) n=${arg#phyllome.vsockbench=} ;; esac
    done
    socat -b 65536 -u VSOCK-LISTEN:1240,fork OPEN:/dev/null &
    a=$!
    socat -b 65536 -U VSOCK-LISTEN:1241,fork OPEN:/dev/zero,readbytes="$n" &
    b=$!
    socat VSOCK-LISTEN:1242,fork PIPE &
    c=$!
    sleep 1
    say "vsockbench listening"
    socat -u VSOCK-LISTEN:1249 STDOUT >/dev/null
    kill $a $b $c
    say "vsockbench done" ;;
  vsock) # the host connects twice to port 1234; then two connections to host port 5000
    vsock-peer serve 1234 2 || say "serve failed"
    vsock-peer send 5000 26214400 &
    a=$!
    vsock-peer send 5000 26214400 &
    b=$!
    wait $a
    wait $b
    say "vsock done" ;;
  socat) # Debian's socat: 50 MiB from the host twice at once to port 1235,
    # and 50 MiB of ours twice at once to host port 5001
    dd if=/dev/urandom of=/tmp/out bs=1M count=50 2>/dev/null
    say "data $(sha256sum </tmp/out | cut -d' ' -f1)"
    printf '#!/bin/sh\nsha256sum | cut -d" " -f1 >>/tmp/got\n' >/tmp/gd-hash
    chmod +x /tmp/gd-hash
    socat -u VSOCK-LISTEN:1235,fork EXEC:/tmp/gd-hash &
    l=$!
    sleep 1
    say "listening"
    socat -u OPEN:/tmp/out VSOCK-CONNECT:2:5001 &
    a=$!
    socat -u OPEN:/tmp/out VSOCK-CONNECT:2:5001 &
    b=$!
    wait $a || say "send failed"
    wait $b || say "send failed"
    i=0
    while [ "$(wc -l </tmp/got 2>/dev/null || echo 0)" -lt 2 ] && [ $i -lt 600 ]; do sleep 0.5; i=$((i + 1)); done
    kill $l
    while read -r h; do say "got $h"; done </tmp/got
    say "socat done" ;;
esac
