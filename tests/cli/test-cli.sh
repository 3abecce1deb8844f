#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The CLI as a user meets it, on the local /dev/kvm with tiny PVH kernels:
# help and version, usage errors (one line naming the option, exit 2), serial
# output to stdout and to a file, SIGTERM (exit 143), a guest crash (exit 1
# and a register dump), the control API socket and the event monitor.
# Usage: test-cli.sh VMM FIRST_INSN_ELF CRASH_ELF WORKDIR
set -uo pipefail
vmm=$1 first=$2 crash=$3 work=$4
mkdir -p "$work"
pass=0 fail=0
check() { # NAME CONDITION-RESULT MESSAGE
  if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "ok - $1"; else fail=$((fail + 1)); echo "not ok - $1: $3"; fi
}
# Waits for a background VMM that was told to stop, 30 s at most: one that
# hangs is killed (status 137, a failure) after its threads' signal state is
# printed, so the test fails instead of hanging.
wait_vmm() { # PID
  if ! timeout 30 tail -s 0.1 --pid="$1" -f /dev/null; then
    echo "# pid $1 still runs 30 s after the signal:"
    for t in /proc/"$1"/task/*; do
      echo "#   $(cat "$t/comm" 2>/dev/null)" $(grep -E '^(SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt)' "$t/status" 2>/dev/null)
    done
    kill -KILL "$1"
  fi
  wait "$1"
}

"$vmm" --help >"$work/help" 2>&1; rc=$?
[ $rc = 0 ] && grep -q -- "--kernel" "$work/help" && grep -q -- "--memory" "$work/help"; check help $? "rc=$rc"
"$vmm" --version >"$work/version"; rc=$?
[ $rc = 0 ] && grep -qE '^phyllome-vmm [0-9]+\.[0-9]+\.[0-9]+$' "$work/version"; check version $? "$(cat "$work/version")"
# Under Cloud Hypervisor's name, its version first (what libvirt parses);
# under any other name, ours.
ln -sf "$(realpath "$vmm")" "$work/cloud-hypervisor"
ln -sf "$(realpath "$vmm")" "$work/cloud-hypervisor-not"
out=$("$work/cloud-hypervisor" --version)
grep -qE "^cloud-hypervisor v[0-9]+\.[0-9]+\.[0-9]+ \($(cat "$work/version")\)$" <<<"$out"
check "version as cloud-hypervisor" $? "$out"
out=$("$work/cloud-hypervisor-not" --version)
[ "$out" = "$(cat "$work/version")" ]; check "version under another name" $? "$out"

usage_error() { # NAME PATTERN ARGS...
  local name=$1 pat=$2
  shift 2
  "$vmm" "$@" >"$work/$name.out" 2>"$work/$name.err"
  local rc=$?
  [ $rc = 2 ] && [ "$(wc -l <"$work/$name.err")" = 1 ] && grep -q -- "$pat" "$work/$name.err"
  check "usage: $name" $? "rc=$rc stderr=$(cat "$work/$name.err")"
}
"$vmm" >"$work/noargs.out" 2>"$work/noargs.err"; rc=$?
[ $rc = 2 ] && grep -q "^Usage" "$work/noargs.err"; check "usage: no arguments prints help, exit 2" $? "rc=$rc"
usage_error no-kernel "--kernel" --cpus boot=1
usage_error unknown "unknown option '--frobnicate'" --frobnicate
usage_error missing-value "--kernel: missing value" --kernel
usage_error cpus-range "--cpus" --kernel "$first" --cpus boot=300
usage_error cpus-syntax "--cpus" --kernel "$first" --cpus 4
usage_error memory-size "--memory" --kernel "$first" --memory size=12Q
usage_error memory-small "--memory" --kernel "$first" --memory size=1M
usage_error serial "--serial" --kernel "$first" --serial pts
usage_error serial-socket "--serial: socket= needs a path" --kernel "$first" --serial socket=
usage_error console "--console: 'maybe'" --kernel "$first" --console maybe
usage_error console-tty "--console: tty, but --serial" --kernel "$first" --console tty
usage_error two-tty "--console: tty, but --serial" --kernel "$first" --serial tty --console tty
touch "$work/exists.sock"
usage_error socket-exists "--console: socket=$work/exists.sock: the path exists" \
  --kernel "$first" --serial null --console "socket=$work/exists.sock"
usage_error positional "unexpected argument" "$first"
# --fs: each mistake before the VM starts; a socket nobody listens on
# (bound, never listening) is no back end.
usage_error fs-shared "--fs: tag=a needs --memory shared=on" --kernel "$first" --fs tag=a,socket=/x
usage_error fs-tag "--fs: tag=.* must be 1 to 36 bytes" --kernel "$first" --memory shared=on \
  --fs tag=0123456789012345678901234567890123456,socket=/x
usage_error fs-notag "--fs: tag= is required" --kernel "$first" --memory shared=on --fs socket=/x
usage_error fs-missing "--fs: socket=$work/nofs.sock" --kernel "$first" --memory shared=on \
  --fs "tag=a,socket=$work/nofs.sock"
usage_error fs-notsock "--fs: socket=$work/exists.sock is not a socket" --kernel "$first" \
  --memory shared=on --fs "tag=a,socket=$work/exists.sock"
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$work/deaf.sock"
usage_error fs-deaf "--fs: socket=$work/deaf.sock: no vhost-user session: the back end does not accept" --kernel "$first" \
  --memory shared=on --fs "tag=a,socket=$work/deaf.sock"
usage_error seccomp "--seccomp: 'maybe' is not true, false or log" --kernel "$first" --seccomp maybe
usage_error not-kernel "not a Linux kernel" --kernel /etc/hostname
usage_error serial-file "--serial" --kernel "$first" --serial file=/nonexistent/dir/log

# Output on stdout, then SIGTERM: exit 128+15. The output files of an
# earlier run go first: a stale X would send the signal before the VMM is
# up (this shell starts it with SIGINT ignored until its handler is in).
rm -f "$work/stdout" "$work/serial.log"
"$vmm" --kernel="$first" --memory=size=64M >"$work/stdout" 2>"$work/stdout.err" &
pid=$!
for _ in $(seq 200); do grep -q X "$work/stdout" && break; sleep 0.05; done
kill -TERM $pid; wait_vmm $pid; rc=$?
grep -q X "$work/stdout" && [ $rc = 143 ]; check "serial tty + SIGTERM" $? "rc=$rc out=$(cat "$work/stdout")"

# Serial to a file, stdout stays clean.
"$vmm" --kernel "$first" --memory size=64M --serial "file=$work/serial.log" >"$work/quiet" 2>&1 &
pid=$!
for _ in $(seq 200); do grep -q X "$work/serial.log" 2>/dev/null && break; sleep 0.05; done
kill -INT $pid; wait_vmm $pid; rc=$?
grep -q X "$work/serial.log" && [ ! -s "$work/quiet" ] && [ $rc = 130 ]
check "serial file + SIGINT" $? "rc=$rc stdout=$(cat "$work/quiet")"

# Serial on a pty and on a socket, the virtio console on the other: the
# paths printed on stderr at start, the guest's X (printed before anyone
# attached) read from each serial back end, the socket file gone after.
rm -f "$work/con.sock" "$work/ser.sock"
out=$(python3 - "$vmm" "$first" "$work" <<'PY'
import os, re, select, signal, socket, subprocess, sys
vmm, first, work = sys.argv[1:4]
def read_x(fd):
    data = b""
    while b"X" not in data and select.select([fd], [], [], 10)[0]:
        chunk = os.read(fd, 64)
        if not chunk:
            break
        data += chunk
    return data
for serial, console in (("pty", "socket=%s/con.sock" % work),
                        ("socket=%s/ser.sock" % work, "pty")):
    p = subprocess.Popen([vmm, "--kernel", first, "--memory", "size=64M",
                          "--serial", serial, "--console", console],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    lines = p.stderr.readline().decode() + p.stderr.readline().decode()
    m = re.search(r"^serial: (pty|socket) (\S+)$", lines, re.M)
    c = re.search(r"^console: (pty|socket) (\S+)$", lines, re.M)
    if not m or not c:
        print("bad lines: %r" % lines); p.kill(); sys.exit(1)
    if m.group(1) == "pty":
        fd = os.open(m.group(2), os.O_RDWR | os.O_NOCTTY)
    else:
        s = socket.socket(socket.AF_UNIX); s.connect(m.group(2)); fd = s.fileno()
    got = read_x(fd)
    p.send_signal(signal.SIGTERM); rc = p.wait(30)
    sock = [x.group(2) for x in (m, c) if x.group(1) == "socket"][0]
    print(serial, repr(got), rc, os.path.exists(sock))
    if b"X" not in got or rc != 143 or os.path.exists(sock):
        sys.exit(1)
PY
)
check "serial pty and socket, console socket and pty" $? "$out"

# SIGINT while the VM is still being built (phy_vm_create() waits in open()
# for the reader of an --event-monitor FIFO): exit 130, nothing printed.
fifo=$work/events.fifo
rm -f "$fifo"; mkfifo "$fifo"
"$vmm" --kernel "$first" --memory size=64M --serial null --event-monitor "$fifo" >"$work/fifo.out" 2>&1 &
pid=$!
for _ in $(seq 200); do [[ "$(cat /proc/$pid/syscall 2>/dev/null)" == "257 "* ]] && break; sleep 0.05; done # openat
kill -INT $pid; wait_vmm $pid; rc=$?
[ $rc = 130 ] && [ ! -s "$work/fifo.out" ]
check "SIGINT while the VM is built" $? "rc=$rc $(cat "$work/fifo.out")"

# A triple fault: exit 1, the reason and the registers on stderr.
timeout 60 "$vmm" --kernel "$crash" --memory size=64M >"$work/crash.out" 2>"$work/crash.err"; rc=$?
[ $rc = 1 ] && grep -q "triple fault" "$work/crash.err" && grep -q "RSI 0000000000005eed" "$work/crash.err" &&
  grep -q "^RIP" "$work/crash.err"
check "guest crash" $? "rc=$rc stderr=$(head -3 "$work/crash.err")"

# --api-socket and --event-monitor: usage errors, then a live VM driven
# with curl, stopped by vmm.shutdown (exit 0, the socket file removed, the
# events written) and by SIGTERM (the socket file removed too).
usage_error api-socket-empty "--api-socket" --kernel "$first" --api-socket ""
usage_error api-socket-key "--api-socket: unknown key 'socket'" --kernel "$first" --api-socket socket=/x
usage_error api-socket-fd-abc "--api-socket: fd='abc'" --kernel "$first" --api-socket fd=abc
usage_error api-socket-fd-neg "--api-socket: fd='-1'" --kernel "$first" --api-socket fd=-1
usage_error api-socket-fd-closed "--api-socket: fd=99999 is not an open" --kernel "$first" --api-socket fd=99999
usage_error api-socket-path-fd "--api-socket: give one of" --kernel "$first" --api-socket path=/x,fd=1
exec 7</dev/null # open, but neither a socket nor writable
usage_error api-socket-fd-kind "--api-socket: fd=7 is not a Unix stream socket" --kernel "$first" --api-socket fd=7
usage_error event-monitor-fd-ro "--event-monitor: fd=7 is not open for writing" --kernel "$first" --event-monitor fd=7
usage_error net-fd-null "--net: fd=7 is not a queue attached to a tap" --kernel "$first" --net fd=7
exec 7<&-
usage_error net-fd-closed "--net: fd=99 is not an open descriptor" --kernel "$first" --net fd=99
usage_error net-fd-list "--net: fd=\[3," --kernel "$first" --net "fd=[3,"
usage_error net-fd-tap "--net: give one of tap= and fd=" --kernel "$first" --net "tap=x,fd=[3,4]"
usage_error event-monitor-fd-closed "--event-monitor: fd=99999" --kernel "$first" --event-monitor fd=99999
usage_error api-socket-dir "--api-socket" --kernel "$first" --api-socket path=/nonexistent/dir/sock
usage_error event-monitor-dir "--event-monitor" --kernel "$first" --event-monitor /nonexistent/dir/events
usage_error landlock-value "--landlock: 'maybe' is not on or off" --kernel "$first" --landlock=maybe
usage_error landlock-rules-path "--landlock-rules: path= is required" --kernel "$first" --landlock-rules access=rw
usage_error landlock-rules-missing "--landlock-rules: path=/nonexistent/x: No such file" --kernel "$first" --landlock --landlock-rules path=/nonexistent/x,access=r
usage_error landlock-rules-access "--landlock-rules: access=rx is not r, w or rw" --kernel "$first" --landlock-rules path=/tmp,access=rx
sock=$work/api.sock events=$work/events
rm -f "$sock" "$events"
wait_sock() { for _ in $(seq 200); do [ -S "$sock" ] && return 0; sleep 0.05; done; return 1; }
if command -v curl >/dev/null; then
  api() { curl -s -m 10 --unix-socket "$sock" -w '\n%{http_code}' "$@"; }
  "$vmm" --kernel "$first" --memory size=64M --serial null --api-socket "path=$sock" \
    --event-monitor "$events" >"$work/api.out" 2>&1 &
  pid=$!
  wait_sock; [ "$(stat -c %a "$sock" 2>/dev/null)" = 600 ]; check "api: socket 0600" $? "$(ls -l "$sock" 2>&1)"
  out=$(api http://localhost/api/v1/vmm.ping)
  [ "${out##*$'\n'}" = 200 ] && grep -q '"version"' <<<"$out"; check "api: ping" $? "$out"
  out=$(api http://localhost/api/v1/vm.info)
  grep -q '"state":"Running"' <<<"$out" && grep -q '"boot_vcpus":1' <<<"$out"; check "api: info" $? "$out"
  out=$(api -X PUT http://localhost/api/v1/vm.pause)
  [ "${out##*$'\n'}" = 204 ]; check "api: pause" $? "$out"
  out=$(api -X PUT http://localhost/api/v1/vm.resume)
  [ "${out##*$'\n'}" = 204 ]; check "api: resume" $? "$out"
  "$vmm" --kernel "$first" --memory size=64M --serial null --api-socket "$sock" \
    >"$work/api2.out" 2>"$work/api2.err"; rc=$?
  [ $rc = 2 ] && [ "$(wc -l <"$work/api2.err")" = 1 ] && grep -q "in use" "$work/api2.err"
  check "api: a live socket is refused" $? "rc=$rc $(cat "$work/api2.err")"
  out=$(api -X PUT http://localhost/api/v1/vmm.shutdown)
  wait_vmm $pid; rc=$?
  [ "${out##*$'\n'}" = 204 ] && [ $rc = 0 ] && [ ! -e "$sock" ]
  check "api: vmm.shutdown ends the VMM" $? "rc=$rc out=$out $(ls -l "$sock" 2>&1) $(cat "$work/api.out")"
  tail -1 "$events" | grep -q '"source":"vmm","event":"shutdown"' &&
    grep -q '"event":"paused"' "$events" && grep -q '"event":"booted"' "$events"
  check "api: event monitor" $? "$(cat "$events")"

  # Descriptors, as libvirt passes them: a socket bound (not listening)
  # by the parent, which then execs the VMM with it inherited, and the
  # writing end of a FIFO whose reader is this shell's. The VMM listens
  # on the socket, serves it, and leaves its file alone.
  fsock=$work/fd-api.sock ffifo=$work/fd-events.fifo
  rm -f "$fsock" "$ffifo" "$work/fd-events"
  mkfifo "$ffifo"
  cat "$ffifo" >"$work/fd-events" &
  reader=$!
  exec 8>"$ffifo"
  python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
os.dup2(s.fileno(), 9, inheritable=True)
os.execv(sys.argv[2], sys.argv[2:])' "$fsock" "$vmm" --kernel "$first" --memory size=64M --serial null \
    --api-socket fd=9 --event-monitor fd=8 >"$work/fd-api.out" 2>&1 &
  pid=$!
  exec 8>&-
  fapi() { curl -s -m 10 --unix-socket "$fsock" -w '\n%{http_code}' "$@"; }
  for _ in $(seq 200); do out=$(fapi http://localhost/api/v1/vmm.ping); [ "${out##*$'\n'}" = 200 ] && break; sleep 0.05; done
  [ "${out##*$'\n'}" = 200 ] && grep -q '"version"' <<<"$out"; check "api fd=: ping" $? "$out $(cat "$work/fd-api.out")"
  # Both descriptors were made close-on-exec (O_CLOEXEC is 02000000).
  flags() { awk '/^flags/ {print $2}' "/proc/$pid/fdinfo/$1"; }
  (( 0$(flags 8) & 0$(flags 9) & 02000000 )); check "api fd=: descriptors close-on-exec" $? "$(flags 8) $(flags 9)"
  out=$(fapi -X PUT http://localhost/api/v1/vm.pause)
  [ "${out##*$'\n'}" = 204 ]; check "api fd=: pause" $? "$out"
  out=$(fapi -X PUT http://localhost/api/v1/vm.resume)
  [ "${out##*$'\n'}" = 204 ]; check "api fd=: resume" $? "$out"
  out=$(fapi -X PUT http://localhost/api/v1/vmm.shutdown)
  wait_vmm $pid; rc=$?
  [ "${out##*$'\n'}" = 204 ] && [ $rc = 0 ] && [ -S "$fsock" ]
  check "api fd=: vmm.shutdown ends the VMM, the socket file stays" $? "rc=$rc out=$out $(cat "$work/fd-api.out")"
  timeout 10 tail -s 0.1 --pid=$reader -f /dev/null; wait $reader
  head -1 "$work/fd-events" | grep -q '"source":"vmm","event":"starting"' &&
    grep -q '"event":"booted"' "$work/fd-events" && grep -q '"event":"paused"' "$work/fd-events" &&
    tail -1 "$work/fd-events" | grep -q '"source":"vmm","event":"shutdown"'
  check "api fd=: event monitor on the passed FIFO" $? "$(cat "$work/fd-events")"
  rm -f "$fsock"
else
  echo "ok - api: skipped, curl is not installed"
fi
# --net fd=, as libvirt passes taps: a parent (in a network namespace of
# its own) opens two queues of a multi-queue tap and execs the VMM with
# them inherited. The VM boots on them: the VMM holds duplicates of its
# own (the kernel's fdinfo names the tap), close-on-exec.
if [ -w /dev/net/tun ] && unshare -n true 2>/dev/null; then
  rm -f "$work/netfd.serial"
  unshare -n python3 -c '
import fcntl, os, struct, sys
def queue():
    fd = os.open("/dev/net/tun", os.O_RDWR)
    # IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE
    fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", b"clifd0", 0x0002 | 0x1000 | 0x4000 | 0x0100))
    return fd
for n in (5, 6):
    fd = queue()
    if fd != n:
        os.dup2(fd, n)
        os.close(fd)
    os.set_inheritable(n, True)
os.execv(sys.argv[1], sys.argv[1:])' "$vmm" --kernel "$first" --memory size=64M \
    --serial "file=$work/netfd.serial" --net "fd=[5,6],num_queues=4" >"$work/netfd.out" 2>&1 &
  pid=$!
  for _ in $(seq 200); do grep -q X "$work/netfd.serial" 2>/dev/null && break; sleep 0.05; done
  taps=0 cloexec=0
  for f in /proc/$pid/fdinfo/*; do
    grep -q "^iff:.*clifd0" "$f" 2>/dev/null || continue
    taps=$((taps + 1))
    (( 0$(awk '/^flags/ {print $2}' "$f") & 02000000 )) && cloexec=$((cloexec + 1))
  done
  kill -TERM $pid; wait_vmm $pid; rc=$?
  grep -q X "$work/netfd.serial" && [ $rc = 143 ] && [ $taps -gt 2 ] && [ $cloexec = $((taps - 2)) ]
  check "net fd=: the VM boots on two inherited queues" $? \
    "rc=$rc taps=$taps cloexec=$cloexec $(cat "$work/netfd.out")"
else
  echo "ok - net fd=: skipped, no /dev/net/tun or network namespace"
fi

# Idle start, as libvirt starts Cloud Hypervisor: no payload, the VM comes
# with vm.create and vm.boot; vm.shutdown keeps the VMM for another boot.
if command -v curl >/dev/null; then
  rm -f "$sock"
  "$vmm" --api-socket "$sock" >"$work/idle.out" 2>&1 &
  pid=$!
  wait_sock
  out=$(api http://localhost/api/v1/vm.info)
  [ "${out##*$'\n'}" = 404 ]; check "idle: no VM before vm.create" $? "$out"
  body='{"memory":{"size":67108864},"payload":{"kernel":"'$first'"},"serial":{"mode":"File","file":"'$work/idle.serial'"}}'
  out=$(api -X PUT -d "$body" http://localhost/api/v1/vm.create)
  [ "${out##*$'\n'}" = 204 ]; check "idle: vm.create" $? "$out"
  out=$(api -X PUT -d '{"cpus":{"boot_vcpus":"x"}}' http://localhost/api/v1/vm.create)
  [ "${out##*$'\n'}" = 405 ]; check "idle: a second vm.create is refused" $? "$out"
  out=$(api -X PUT http://localhost/api/v1/vm.boot)
  for _ in $(seq 200); do grep -q X "$work/idle.serial" 2>/dev/null && break; sleep 0.05; done
  [ "${out##*$'\n'}" = 204 ] && grep -q X "$work/idle.serial"; check "idle: vm.boot runs the guest" $? "$out"
  out=$(api -X PUT http://localhost/api/v1/vm.shutdown)
  info=$(api http://localhost/api/v1/vm.info)
  [ "${out##*$'\n'}" = 204 ] && kill -0 $pid && grep -q '"state":"Created"' <<<"$info"
  check "idle: vm.shutdown keeps the VMM" $? "$out $info"
  out=$(api -X PUT http://localhost/api/v1/vm.boot)
  [ "${out##*$'\n'}" = 204 ]; check "idle: vm.boot again" $? "$out"
  out=$(api -X PUT http://localhost/api/v1/vmm.shutdown)
  wait_vmm $pid; rc=$?
  [ $rc = 0 ] && [ ! -e "$sock" ]; check "idle: vmm.shutdown ends it" $? "rc=$rc $(cat "$work/idle.out")"
else
  echo "ok - idle: skipped, curl is not installed"
fi
usage_error idle-no-api "--kernel: a kernel (or --firmware) is required" --memory size=64M

# --config FILE: a VmConfig document; options after it add or override.
usage_error config-missing "--config: cannot open '/nonexistent.json'" --config /nonexistent.json
printf '{"cpus":{"boot_vcpus":1},"disks":[{"readonly":true}]}' >"$work/bad.json"
usage_error config-bad "--config: disks\[0\]: path is required" --config "$work/bad.json"
printf '{"memory":{"size":67108864},"payload":{"kernel":"%s"},"serial":{"mode":"Null"}}' "$first" >"$work/vm.json"
rm -f "$work/config.serial"
"$vmm" --config "$work/vm.json" --serial "file=$work/config.serial" >"$work/config.out" 2>&1 &
pid=$!
for _ in $(seq 200); do grep -q X "$work/config.serial" 2>/dev/null && break; sleep 0.05; done
kill -TERM $pid; wait_vmm $pid; rc=$?
grep -q X "$work/config.serial" && [ $rc = 143 ]
check "config: the VM from the file, the serial from the option after it" $? "rc=$rc $(cat "$work/config.out")"

"$vmm" --kernel "$first" --memory size=64M --serial null --api-socket "$sock" >/dev/null 2>&1 &
pid=$!
wait_sock; kill -TERM $pid; wait_vmm $pid; rc=$?
[ $rc = 143 ] && [ ! -e "$sock" ]; check "api: SIGTERM removes the socket" $? "rc=$rc"

echo "test-cli: $pass passed, $fail failed"
[ $fail = 0 ]
