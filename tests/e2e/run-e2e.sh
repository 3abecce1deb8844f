#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds (or reuses) the default guest and runs one e2e suite where Linux can
# boot: directly, or in the rig with the log directory shared back.
#
# Each case gets its own rig (about 6 s of overhead): nested KVM under TCG
# occasionally wedges L1 itself, and then no timeout inside L1 can fire. A
# case whose rig timed out or failed (exit 124/125), or whose guest died of
# the rig's known fault (the suite's exit 75, suite-lib.sh), or whose L1
# stopped showing signs of life (watch_l1 below), is retried in a fresh
# rig, up to twice, while the suite is within its time budget (CI
# 2026-12-06: L1's kernel panicked under e2e.api's embed-two twice in a
# row, then passed). Each case writes to LOG_DIR/CASE; a retried case's
# earlier logs stay in LOG_DIR/CASE.attemptN.
#
# Usage: run-e2e.sh [--guest-extra DIR] [--guest-builder SCRIPT] SUITE VMM LOG_DIR [CASE...]
#   --guest-extra DIR: the guest gets DIR's files too (build-guest.sh --extra)
#   --guest-builder SCRIPT: builds the guest instead of tools/guest/build-guest.sh,
#     taking the same --extra DIR and --print-dir (tools/guest/build-gpu-guest.sh)
# Environment: PHYLLOME_E2E_CASE_TIMEOUT (s, default 360),
#              PHYLLOME_E2E_BUDGET (s, default 1500: no retries after it),
#              PHYLLOME_RIG_LOCK (a file: each case's rig holds flock(1) on
#              it, so runs sharing this machine take turns case by case).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
extra=() builder=$root/tools/guest/build-guest.sh
while :; do
  case ${1:-} in
    --guest-extra) extra=(--extra "$2"); shift 2 ;;
    --guest-builder) builder=$2; shift 2 ;;
    *) break ;;
  esac
done
suite=$1 vmm=$2 logs=$3
shift 3
case_timeout=${PHYLLOME_E2E_CASE_TIMEOUT:-360}
budget=${PHYLLOME_E2E_BUDGET:-1500}
rm -rf "$logs"
mkdir -p "$logs"
guest=$("$builder" "${extra[@]}" --print-dir) || exit 1
cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
  mapfile -t cases < <("$here/$suite" --list) || exit 1
fi
# The suite touches LOG_DIR/CASE/.alive every 10 s inside L1
# (suite-lib.sh's heartbeat): an L1 that stopped touching it for
# L1_SILENCE s, or had not started to after L1_START s, is stuck (the
# rig's wedge can take L1 itself), and its rig is stopped at once rather
# than at the case's timeout; the case is retried like a timed-out one.
l1_silence=${PHYLLOME_E2E_L1_SILENCE:-60}
l1_start=${PHYLLOME_E2E_L1_START:-180}
watch_l1() { # CASE_LOG_DIR RIG_PID
  local alive=$1/.alive started=$SECONDS seen="" changed=$SECONDS m
  while sleep 5; do
    # L1's clock may differ from ours: time the changes, not the stamps.
    m=$(stat -c %Y "$alive" 2>/dev/null)
    if [ -n "$m" ]; then
      [ "$m" = "$seen" ] || { seen=$m changed=$SECONDS; continue; }
      [ $((SECONDS - changed)) -ge "$l1_silence" ] || continue
      echo "no heartbeat from the suite for $((SECONDS - changed)) s" >"$1.l1-stalled"
    else
      [ $((SECONDS - started)) -ge "$l1_start" ] || continue
      echo "the suite had not started after $l1_start s" >"$1.l1-stalled"
    fi
    # rig-run stops L1 at once on SIGTERM.
    kill -TERM "$2" 2>/dev/null
    return
  done
}

failed=()
for c in "${cases[@]}"; do
  for attempt in 1 2 3; do
    # Each attempt starts with an empty LOG_DIR/CASE: a retry that found
    # the first attempt's serial log would see its markers at once.
    [ -z "${PHYLLOME_RIG_LOCK:-}" ] || { exec {lock}>>"$PHYLLOME_RIG_LOCK" && flock "$lock"; }
    "$root/tools/rig/maybe-rig" --smp 4 --share "$logs" --timeout "$case_timeout" -- \
      "$here/$suite" "$vmm" "$guest" "$logs/$c" "$c" &
    rig=$!
    watch_l1 "$logs/$c" "$rig" &
    watch=$!
    wait "$rig"
    rc=$?
    kill "$watch" 2>/dev/null
    wait "$watch" 2>/dev/null
    [ -z "${PHYLLOME_RIG_LOCK:-}" ] || exec {lock}>&-
    [ ! -e "$logs/$c.l1-stalled" ] || rc=123
    case $rc in
      123) what="L1 stalled: $(cat "$logs/$c.l1-stalled")"; rm -f "$logs/$c.l1-stalled" ;;
      124) what="the rig timed out" ;;
      125) what="the rig failed" ;;
      75) what="the guest died of the rig's known fault" ;;
      *) break ;;
    esac
    [ "$attempt" -lt 3 ] && [ "$SECONDS" -lt "$budget" ] || break
    echo "# $c: $what (exit $rc); retrying in a fresh one (attempt $attempt's logs: $logs/$c.attempt$attempt)"
    [ ! -e "$logs/$c" ] || mv "$logs/$c" "$logs/$c.attempt$attempt"
  done
  [ $rc -eq 0 ] || failed+=("$c")
done
echo "$suite: $((${#cases[@]} - ${#failed[@]})) of ${#cases[@]} cases passed${failed:+; failed: ${failed[*]}}"
[ ${#failed[@]} -eq 0 ]
