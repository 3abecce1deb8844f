# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
# The framework of the e2e suites (tests/e2e/*-suite.sh), which source it;
# tests/e2e/run-e2e.sh runs them, a case a rig. Every suite is called as
#   SUITE.sh PROGRAM GUEST_DIR LOG_DIR [CASE...]   the cases named, or all
#   SUITE.sh --list                                its cases, one a line
# prints a line a case: "ok - CASE (...)", "not ok - CASE: WHY" or
# "ok - CASE # SKIP WHY", then "SUITE: P passed, F failed", and exits 0 when
# none failed, 1 otherwise (also 1, with the suite's "# Usage:" line, when
# arguments are missing), 75 when every failed case's guest died of the
# rig's known fault (rig_fault below), which run-e2e.sh retries.
#
# A suite sets, before suite_args:
#   ALL            its cases, in order. Case NAME is the function case_NAME
#                  with "-" as "_" (bad-disk: case_bad_disk); a name not in
#                  ALL is "not ok - NAME: unknown case".
#   DEFAULT_CASES  what runs without CASE arguments and what --list prints,
#                  where that is not ALL (e2e.gpu under QEMU leaves out its
#                  phyllome-vmm-only cases, which still run when named).
#   MARK           the prefix of its guest's lines (PHYLLOME-BLK), for says,
#                  saw and why; WHY_LINES: how many of the guest's last lines
#                  why quotes (default 2).
# then calls
#   suite_args "$@"  --list (prints, exits), or takes the arguments: GUEST,
#                    LOGS (made), KERNEL and INITRD (GUEST's vmlinuz and
#                    initrd.img), CASES; the suite takes PROGRAM from $1
#   suite_run        runs CASES, after_each_case after every one (net: its
#                    taps and processes go), after_all_cases after the last
#                    (blk: its file system is unmounted) and prints the
#                    summary; its status (0: none failed) is the suite's, as
#                    its last command. The hooks do nothing unless the suite
#                    defines them again.
# and has
#   ok NAME, bad NAME WHY, skip NAME WHY   the result lines (pass, fail)
#   says NAME TEXT  the rest of the first "MARK: TEXT..." line of LOGS/NAME.log
#   saw NAME TEXT   whether LOGS/NAME.log has such a line
#   why RC NAME     "exit RC: ...; guest: ..." from LOGS/NAME.err and .log
#   here            this directory (tests/e2e)
# (net-suite.sh has its own says and why: its guest's lines are looked up
# word by word, and its why tells about the case's deadline.)

# The variables set here are for the suites (for shellcheck, in this whole file):
# shellcheck disable=SC2034
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SUITE=$(basename "$0" .sh)
pass=0 fail=0
ALL="" DEFAULT_CASES="" MARK="" WHY_LINES=2 LOAD_CASES=""
GUEST="" LOGS="" KERNEL="" INITRD="" CASES=()

# rig_fault NAME: whether case NAME's guest died the L2 deaths the rig
# causes, or its VMM was stopped as wedged (watch_silent below); otherwise,
# whether its guest died the L2 deaths the rig
# causes under load, under QEMU as under phyllome-vmm (docs/testing.md):
# in its guest log (LOGS/NAME*.log), a double fault on the first
# instruction of entry_SYSCALL_64, where no interrupt can be taken (IF is
# clear), so the event came from nested virtualisation under TCG, not from
# a device; or, for the cases that load the rig (LOAD_CASES, set by the
# suite), a guest triple fault the VMM reports (LOGS/NAME*.err; the
# embedding example's event line in LOGS/NAME*.out), which L1's KVM shows
# as nested page faults on a bad page-table address.
rig_fault() {
  local f
  [ -e "$LOGS/$1.wedge" ] && return 0
  for f in "$LOGS/$1"*.log; do
    [ -f "$f" ] || continue
    grep -aq "double fault" "$f" && grep -aq "RIP: 0010:entry_SYSCALL_64+0x0/" "$f" && return 0
  done
  [[ " $LOAD_CASES " == *" $1 "* ]] || return 1
  for f in "$LOGS/$1"*.err; do
    [ -f "$f" ] && grep -aq "guest crashed: vCPU [0-9]*: triple fault" "$f" && return 0
  done
  for f in "$LOGS/$1"*.out; do
    [ -f "$f" ] && grep -aq " event crash: vCPU [0-9]*: triple fault" "$f" && return 0
  done
  return 1
}

rig_fail=0
ok()   { pass=$((pass + 1)); echo "ok - $1"; }
bad() {
  fail=$((fail + 1))
  echo "not ok - $1: $2"
  if rig_fault "$1"; then
    rig_fail=$((rig_fail + 1))
    if [ -e "$LOGS/$1.wedge" ]; then
      echo "# $1: a VMM wedged at its start, the rig's wedge (docs/testing.md)"
    else
      echo "# $1: the guest died of a fault the rig causes under load (docs/testing.md)"
    fi
  fi
}
skip() { pass=$((pass + 1)); echo "ok - $1 # SKIP $2"; }

suite_args() { # "$@" of the suite
  local defaults
  read -ra defaults <<<"${DEFAULT_CASES:-$ALL}"
  if [ "${1:-}" = --list ]; then printf '%s\n' "${defaults[@]}"; exit 0; fi
  if [ $# -lt 3 ]; then
    sed -n 's/^# Usage: /usage: /p' "$0" >&2
    exit 1
  fi
  GUEST=$2 LOGS=$3
  KERNEL=$GUEST/vmlinuz INITRD=$GUEST/initrd.img
  mkdir -p "$LOGS"
  if [ $# -gt 3 ]; then CASES=("${@:4}"); else CASES=("${defaults[@]}"); fi
}

after_each_case() { :; }
after_all_cases() { :; }

# The rig's wedge (docs/testing.md): a VMM freshly started in L1 sometimes
# gets no further than its start, and nothing it printed would end the
# case before its timeout (minutes). Two watches make it cost a minute:
# - heartbeat: LOGS/.alive is touched every 10 s while the suite runs;
#   run-e2e.sh, outside the rig, stops a rig whose L1 stopped touching it.
# - watch_silent NAME, beside each case: a VMM of the case (a process
#   naming LOGS/NAME in its command line) whose serial file (--serial
#   file=, QEMU's -serial file:) is still empty while the case's processes
#   used under 0.5 s of CPU in 30 s (a booting guest keeps its vCPU busy),
#   or still empty after WEDGE_SILENCE s, is taken as wedged: what L1
#   sees goes to LOGS/NAME.wedge (wedge_evidence), the case's processes
#   are killed, and the case fails as a rig fault, which run-e2e.sh
#   retries.
WEDGE_SILENCE=${PHYLLOME_E2E_SILENCE:-150}

heartbeat() { while :; do touch "$LOGS/.alive"; sleep 10; done; }

wedge_evidence() { # NAME
  local p t tr=/sys/kernel/tracing
  echo "# case $1: a VMM's serial file stayed empty; what L1 sees"
  uptime
  ps -eLo pid,tid,stat,pcpu,wchan:32,comm
  for p in $(pgrep -f -- "$LOGS/$1"); do
    echo "## pid $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
    for t in /proc/"$p"/task/*; do
      echo "### task ${t##*/} $(cat "$t/comm" 2>/dev/null) $(grep -s '^State' "$t/status") wchan=$(cat "$t/wchan" 2>/dev/null)"
      cat "$t/stack" 2>/dev/null
    done
  done
  [ -d "$tr/events" ] || mount -t tracefs nodev "$tr" 2>/dev/null
  if [ -w "$tr/events/kvm/kvm_exit/enable" ]; then
    : >"$tr/trace"
    echo 1 >"$tr/events/kvm/kvm_exit/enable"
    sleep 2
    echo 0 >"$tr/events/kvm/kvm_exit/enable"
    echo "## kvm_exit in 2 s: $(grep -c kvm_exit "$tr/trace") events; the first 100:"
    grep -m 100 kvm_exit "$tr/trace"
  else
    echo "## no kvm_exit tracepoint in L1"
  fi
}

# The system call census (PHYLLOME_E2E_SYSCALLS=1, for
# tools/seccomp-audit): while the suite runs, L1's kernel counts every
# system call by thread and number (a histogram trigger, no trace to
# write), and who started and renamed each thread (the fork and rename
# events), so each thread of a VMM can be told by the name it gave itself,
# and the requests of its ioctls; they land in LOGS (syscalls.hist,
# syscalls.tasks, syscalls.ioctl) at the end.
census_start() {
  [ -n "${PHYLLOME_E2E_SYSCALLS:-}" ] || return 0
  local tr=/sys/kernel/tracing
  [ -d "$tr/events" ] || mount -t tracefs nodev "$tr" 2>/dev/null || return 0
  echo 16384 >"$tr/buffer_size_kb"
  : >"$tr/trace"
  echo 1 >"$tr/events/sched/sched_process_fork/enable"
  echo 1 >"$tr/events/task/task_rename/enable"
  echo 'hist:keys=common_pid.execname,id:vals=hitcount:size=65536' \
    >"$tr/events/raw_syscalls/sys_enter/trigger"
  echo 'hist:keys=common_pid.execname,cmd.hex:vals=hitcount:size=4096' \
    >"$tr/events/syscalls/sys_enter_ioctl/trigger"
}
census_end() {
  [ -n "${PHYLLOME_E2E_SYSCALLS:-}" ] || return 0
  local tr=/sys/kernel/tracing
  cat "$tr/events/raw_syscalls/sys_enter/hist" >"$LOGS/syscalls.hist"
  cat "$tr/events/syscalls/sys_enter_ioctl/hist" >"$LOGS/syscalls.ioctl"
  grep -E 'sched_process_fork|task_rename' "$tr/trace" >"$LOGS/syscalls.tasks"
}

case_pids() { pgrep -f -- "$LOGS/$1"; }

case_serial_files() { # NAME
  local p a prev
  for p in $(case_pids "$1"); do
    prev=""
    while IFS= read -r -d '' a; do
      case $prev in
        --serial) [[ $a == file=* ]] && echo "${a#file=}" ;;
        -serial) [[ $a == file:* ]] && echo "${a#file:}" ;;
      esac
      prev=$a
    done 2>/dev/null <"/proc/$p/cmdline"
  done | sort -u
}

case_cpu_ticks() { # NAME: user + system time of its processes so far
  local p st sum=0
  for p in $(case_pids "$1"); do
    st=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
    read -ra st <<<"$st"
    sum=$((sum + ${st[11]:-0} + ${st[12]:-0}))
  done
  echo "$sum"
}

watch_silent() { # NAME
  local f files silent since="" t0="" cpu0=0 cpu why=""
  while sleep 5; do
    mapfile -t files < <(case_serial_files "$1")
    silent=0
    for f in "${files[@]}"; do [ -s "$f" ] || silent=1; done
    if [ "$silent" = 0 ]; then since="" t0=""; continue; fi
    since=${since:-$SECONDS}
    cpu=$(case_cpu_ticks "$1")
    if [ -z "$t0" ]; then
      t0=$SECONDS cpu0=$cpu
    elif [ $((SECONDS - t0)) -ge 30 ]; then
      [ $((cpu - cpu0)) -ge 50 ] || why="its processes used $((cpu - cpu0)) ticks of CPU in $((SECONDS - t0)) s"
      t0=$SECONDS cpu0=$cpu
    fi
    [ $((SECONDS - since)) -lt "$WEDGE_SILENCE" ] || why="no byte in ${WEDGE_SILENCE} s"
    [ -n "$why" ] || continue
    wedge_evidence "$1" >"$LOGS/$1.wedge" 2>&1
    echo "# $1: a VMM's serial file stayed empty ($why): the rig's wedge; stopping the case (what L1 saw: $1.wedge)"
    pkill -KILL -f -- "$LOGS/$1"
    return 0
  done
}

suite_run() {
  local c known beat watch
  read -ra known <<<"$ALL"
  heartbeat >/dev/null 2>&1 &
  beat=$!
  census_start
  for c in "${CASES[@]}"; do
    if printf '%s\n' "${known[@]}" | grep -qxF -- "$c"; then
      watch_silent "$c" &
      watch=$!
      "case_${c//-/_}"
      kill "$watch" 2>/dev/null
      wait "$watch" 2>/dev/null
    else
      bad "$c" "unknown case"
    fi
    after_each_case
  done
  kill "$beat" 2>/dev/null
  wait "$beat" 2>/dev/null
  after_all_cases
  census_end
  echo "$SUITE: $pass passed, $fail failed"
  [ "$fail" -eq 0 ] && return 0
  [ "$rig_fail" -eq "$fail" ] && return 75
  return 1
}

says() { grep -a "^$MARK: $2" "$LOGS/$1.log" | head -1 | sed "s/^$MARK: $2 *//" | tr -d '\r'; }
saw() { grep -aq "^$MARK: $2" "$LOGS/$1.log" 2>/dev/null; }
why() {
  echo "exit $1: $(tail -1 "$LOGS/$2.err" 2>/dev/null); guest: $(grep -a 'PHYLLOME' "$LOGS/$2.log" 2>/dev/null | tail -"$WHY_LINES" | tr '\r\n' '  ')"
}
