#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The CLI as a user meets it, on the local /dev/kvm with tiny PVH kernels:
# help and version, usage errors (one line naming the option, exit 2), serial
# output to stdout and to a file, SIGTERM (exit 143), a guest crash (exit 1
# and a register dump). Usage: test-cli.sh VMM FIRST_INSN_ELF CRASH_ELF WORKDIR
set -uo pipefail
vmm=$1 first=$2 crash=$3 work=$4
mkdir -p "$work"
pass=0 fail=0
check() { # NAME CONDITION-RESULT MESSAGE
  if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "ok - $1"; else fail=$((fail + 1)); echo "not ok - $1: $3"; fi
}

"$vmm" --help >"$work/help" 2>&1; rc=$?
[ $rc = 0 ] && grep -q -- "--kernel" "$work/help" && grep -q -- "--memory" "$work/help"; check help $? "rc=$rc"
"$vmm" --version >"$work/version"; rc=$?
[ $rc = 0 ] && grep -qE '^phyllome-vmm [0-9]+\.[0-9]+\.[0-9]+$' "$work/version"; check version $? "$(cat "$work/version")"

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
usage_error serial "--serial" --kernel "$first" --serial pty
usage_error console "--console" --kernel "$first" --console tty
usage_error positional "unexpected argument" "$first"
usage_error not-kernel "not a Linux kernel" --kernel /etc/hostname
usage_error serial-file "--serial" --kernel "$first" --serial file=/nonexistent/dir/log

# Output on stdout, then SIGTERM: exit 128+15.
"$vmm" --kernel="$first" --memory=size=64M >"$work/stdout" 2>"$work/stdout.err" &
pid=$!
for _ in $(seq 100); do grep -q X "$work/stdout" && break; sleep 0.05; done
kill -TERM $pid; wait $pid; rc=$?
grep -q X "$work/stdout" && [ $rc = 143 ]; check "serial tty + SIGTERM" $? "rc=$rc out=$(cat "$work/stdout")"

# Serial to a file, stdout stays clean.
"$vmm" --kernel "$first" --memory size=64M --serial "file=$work/serial.log" >"$work/quiet" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q X "$work/serial.log" 2>/dev/null && break; sleep 0.05; done
kill -INT $pid; wait $pid; rc=$?
grep -q X "$work/serial.log" && [ ! -s "$work/quiet" ] && [ $rc = 130 ]
check "serial file + SIGINT" $? "rc=$rc stdout=$(cat "$work/quiet")"

# A triple fault: exit 1, the reason and the registers on stderr.
timeout 60 "$vmm" --kernel "$crash" --memory size=64M >"$work/crash.out" 2>"$work/crash.err"; rc=$?
[ $rc = 1 ] && grep -q "triple fault" "$work/crash.err" && grep -q "RSI 0000000000005eed" "$work/crash.err" &&
  grep -q "^RIP" "$work/crash.err"
check "guest crash" $? "rc=$rc stderr=$(head -3 "$work/crash.err")"

echo "test-cli: $pass passed, $fail failed"
[ $fail = 0 ]
