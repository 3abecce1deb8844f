#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# --landlock on the local /dev/kvm with the tiny PVH kernel. Booted from
# the command line: every thread of the process is confined (NoNewPrivs,
# which Landlock sets, on each), the guest writes its serial file, a
# reboot reads the kernel again, and the
# confined VMM still removes its API socket at the end. Booted through
# the API (vm.create, vm.boot): the API thread and the VM's threads are
# confined, main is not; a VM whose disk lies outside the rules then
# cannot boot (Permission denied, naming the disk), one whose disk is in
# --landlock-rules can.
# Usage: test-landlock.sh VMM FIRST_INSN_ELF WORKDIR
set -uo pipefail
vmm=$1 first=$2 work=$3
rm -rf "$work" && mkdir -p "$work/allowed" "$work/denied"
truncate -s 1M "$work/allowed/d.img" "$work/denied/d.img"
sock=$work/api.sock
pass=0 fail=0
check() { # NAME CONDITION-RESULT MESSAGE
  if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "ok - $1"; else fail=$((fail + 1)); echo "not ok - $1: $3"; fi
}
if ! command -v curl >/dev/null; then
  echo "not ok - curl is needed (tools/install-deps installs it)"; exit 1
fi
api() { curl -s -m 10 --unix-socket "$sock" -w '\n%{http_code}' "$@"; }
wait_sock() { for _ in $(seq 200); do [ -S "$sock" ] && return 0; sleep 0.05; done; return 1; }
wait_x() { for _ in $(seq 200); do grep -q X "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
# "comm=NoNewPrivs" for each thread of PID.
nnp() { for t in /proc/"$1"/task/*; do echo "$(cat "$t/comm")=$(awk '/^NoNewPrivs/ {print $2}' "$t/status")"; done; }
end_vmm() { # PID: vmm.shutdown, then its exit status
  api -X PUT http://localhost/api/v1/vmm.shutdown >/dev/null
  timeout 30 tail -s 0.1 --pid="$1" -f /dev/null || kill -KILL "$1"
  wait "$1"
}

"$vmm" --kernel "$first" --memory size=64M --serial "file=$work/cli.serial" \
  --api-socket "$sock" --landlock --landlock-rules "path=$work/allowed,access=r" >"$work/cli.out" 2>&1 &
pid=$!
wait_sock && wait_x "$work/cli.serial"; check "command line: the guest writes its serial file" $? "$(cat "$work/cli.out")"
out=$(api http://localhost/api/v1/vm.info)
grep -qF '"landlock_enable":true,"landlock_rules":[{"path":"'"$work"'/allowed","access":"r"}]' <<<"$out"
check "command line: vm.info has the rule, once" $? "$out"
threads=$(nnp $pid)
! grep -q '=0' <<<"$threads" && grep -q 'vcpu0=1' <<<"$threads" && grep -q 'phy-api=1' <<<"$threads"
check "command line: every thread confined" $? "$threads"
# A reboot rebuilds the machine on the confined supervisor, which opens
# the kernel again: the guest runs a second time.
out=$(api -X PUT http://localhost/api/v1/vm.reboot)
for _ in $(seq 200); do [ "$(grep -c X "$work/cli.serial")" = 2 ] && break; sleep 0.05; done
[ "$(grep -c X "$work/cli.serial")" = 2 ]; check "command line: vm.reboot boots the kernel again" $? "$out $(cat "$work/cli.out")"
end_vmm $pid; rc=$?
[ $rc = 0 ] && [ ! -e "$sock" ]; check "command line: vmm.shutdown, the socket removed" $? "rc=$rc $(cat "$work/cli.out")"

# Without seccomp here: its filters set NoNewPrivs on every thread too,
# and main's must show that Landlock left it alone. (The command-line
# case above runs with both, as the CLI does by default.)
"$vmm" --api-socket "$sock" --seccomp false --landlock \
  --landlock-rules "path=$work/allowed,access=rw" >"$work/api.out" 2>&1 &
pid=$!
wait_sock
vm() { # DISK SERIAL: vm.create's body
  echo '{"memory":{"size":67108864},"payload":{"kernel":"'$first'"},"disks":[{"path":"'$1'"}],"serial":{"mode":"File","file":"'$2'"}}'
}
out=$(api -X PUT -d "$(vm "$work/allowed/d.img" "$work/api1.serial")" http://localhost/api/v1/vm.create)$'\n'
out+=$(api -X PUT http://localhost/api/v1/vm.boot)
wait_x "$work/api1.serial"; check "api: vm.boot runs the guest" $? "$out"
threads=$(nnp $pid)
grep -q 'vcpu0=1' <<<"$threads" && grep -q 'phy-api=1' <<<"$threads" && grep -q "^$(cat /proc/$pid/comm)=0" <<<"$threads"
check "api: the API and the VM's threads confined, main not" $? "$threads"
for d in denied allowed; do
  api -X PUT http://localhost/api/v1/vm.shutdown >/dev/null
  api -X PUT http://localhost/api/v1/vm.delete >/dev/null
  out=$(api -X PUT -d "$(vm "$work/$d/d.img" "$work/allowed/api-$d.serial")" http://localhost/api/v1/vm.create)$'\n'
  out+=$(api -X PUT http://localhost/api/v1/vm.boot)
  if [ $d = denied ]; then
    grep -q "$work/denied/d.img" <<<"$out" && grep -q "Permission denied" <<<"$out" && [ "${out##*$'\n'}" != 204 ]
    check "api: a disk outside the rules cannot be opened" $? "$out"
  else
    [ "${out##*$'\n'}" = 204 ] && wait_x "$work/allowed/api-$d.serial"
    check "api: a disk in --landlock-rules can" $? "$out"
  fi
done
end_vmm $pid; rc=$?
[ $rc = 0 ] && [ ! -e "$sock" ]; check "api: vmm.shutdown, the socket removed" $? "rc=$rc $(cat "$work/api.out")"

echo "test-landlock: $pass passed, $fail failed"
[ $fail = 0 ]
