#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# --seccomp on the local /dev/kvm: with the default (true) every thread of
# a running VMM is filtered (Seccomp: 2), with false none is; each thread
# kind's forbidden call (PHYLLOME_SECCOMP_SELFTEST=<kind>: mount(2)) ends
# the VMM with a one-line report naming the thread, its kind and the call;
# with log the VMM goes on.
# Usage: test-seccomp.sh VMM FIRST_INSN_ELF WORKDIR
set -uo pipefail
vmm=$1 first=$2 work=$3
mkdir -p "$work"
pass=0 fail=0
check() { # NAME CONDITION-RESULT MESSAGE
  if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "ok - $1"; else fail=$((fail + 1)); echo "not ok - $1: $3"; fi
}
sock=$work/api.sock
# Every thread kind but the window (tests/unit's X server is not here):
# the serial and console on ptys, the API, a GPU (virgl where EGL is,
# else 2D: its thread either way) and an rng on the device loop.
all_kinds=(--kernel "$first" --memory size=64M --serial pty --console pty
  --api-socket "$sock" --gpu mode=virgl --rng src=/dev/urandom)

# Starts the VMM with ARGS, waits for its API socket (all threads are up
# once it serves), runs the check, stops it with SIGTERM.
threads_seccomp() { # LABEL WANT ARGS...
  local label=$1 want=$2
  shift 2
  rm -f "$sock"
  "$vmm" "$@" >"$work/run.out" 2>"$work/run.err" &
  local pid=$! list bad n k c s
  # The kinds that must be there (the VM's threads start after the API
  # socket, slowly under ASan): a vCPU, the loop, the GPU, the API, the
  # supervisor, both consoles and the main thread.
  for _ in $(seq 400); do
    # A thread that ended while listed (one of Mesa's) is left out.
    list=$(for t in /proc/$pid/task/*; do
      c=$(cat "$t/comm") && s=$(awk '/^Seccomp:/ {print $2}' "$t/status") &&
        [ -n "$s" ] && echo "$c:$s"; done 2>/dev/null)
    n=0
    for k in vcpu0 phy-devices phy-gpu phy-api phy-supervisor phy-serial phy-console phyllome-vmm; do
      grep -q "^$k:" <<<"$list" && n=$((n + 1))
    done
    [ $n = 8 ] && break
    sleep 0.05
  done
  kill -TERM $pid; wait $pid
  bad=$(grep -cv ":$want\$" <<<"$list")
  [ "$bad" = 0 ] && [ $n = 8 ]
  check "$label: every thread Seccomp: $want" $? "$(echo $list) $(cat "$work/run.err")"
}
threads_seccomp default 2 "${all_kinds[@]}"
threads_seccomp "--seccomp true" 2 "${all_kinds[@]}" --seccomp true
threads_seccomp "--seccomp false" 0 "${all_kinds[@]}" --seccomp false

# A forbidden call from each kind: one line on stderr, exit 159.
for kind in vmm api supervisor vcpu devices gpu chardev; do
  rm -f "$sock"
  PHYLLOME_SECCOMP_SELFTEST=$kind timeout 20 "$vmm" "${all_kinds[@]}" \
    >"$work/$kind.out" 2>"$work/$kind.err"
  rc=$?
  [ $rc = 159 ] && [ "$(grep -c seccomp "$work/$kind.err")" = 1 ] &&
    grep -qE "^phyllome-vmm: seccomp: thread [a-z0-9-]+ \($kind\) made a forbidden system call: mount \(165\)$" "$work/$kind.err"
  check "selftest $kind: the report names the thread and mount (165)" $? "rc=$rc $(cat "$work/$kind.err")"
done

# The window, on an X server of its own: filtered, and its forbidden call
# reported like the others.
# (Xvfb picks a free display and writes its number once it takes clients.)
if command -v Xvfb >/dev/null; then
  rm -f "$work/xdisplay"
  Xvfb -displayfd 3 -screen 0 640x480x24 -nolisten tcp 3>"$work/xdisplay" 2>/dev/null &
  xpid=$!
  for _ in $(seq 100); do [ -s "$work/xdisplay" ] && break; sleep 0.05; done
  PHYLLOME_SECCOMP_SELFTEST=window DISPLAY=:$(head -1 "$work/xdisplay") WAYLAND_DISPLAY= \
    timeout 30 "$vmm" --kernel "$first" --memory size=64M --serial null --gpu mode=2d \
    --display sdl >"$work/window.out" 2>"$work/window.err"
  rc=$?
  kill $xpid; wait $xpid 2>/dev/null
  [ $rc = 159 ] && grep -qE "^phyllome-vmm: seccomp: thread phy-window \(window\) made a forbidden system call: mount \(165\)$" "$work/window.err"
  check "selftest window: the report names the thread and mount (165)" $? "rc=$rc $(cat "$work/window.err")"
else
  check "selftest window" 1 "Xvfb is not installed (tools/install-deps)"
fi

# log: the forbidden calls are only logged; the VMM runs on.
rm -f "$work/log.serial"
PHYLLOME_SECCOMP_SELFTEST=vcpu "$vmm" --kernel "$first" --memory size=64M \
  --serial "file=$work/log.serial" --seccomp log >"$work/log.out" 2>&1 &
pid=$!
for _ in $(seq 200); do grep -q X "$work/log.serial" 2>/dev/null && break; sleep 0.05; done
sleep 0.2
kill -TERM $pid; wait $pid; rc=$?
grep -q X "$work/log.serial" && [ $rc = 143 ] && ! grep -q seccomp "$work/log.out"
check "log: a forbidden call is logged only, the VM runs on" $? "rc=$rc $(cat "$work/log.out")"

echo "test-seccomp: $pass passed, $fail failed"
[ $fail = 0 ]
