#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds (or reuses) the default guest and runs one e2e suite where Linux can
# boot: directly, or in the rig with the log directory shared back.
#
# Each case gets its own rig (about 6 s of overhead): nested KVM under TCG
# occasionally wedges L1 itself, and then no timeout inside L1 can fire. A
# case whose rig timed out or failed (exit 124/125), or whose guest died of
# the rig's known fault (the suite's exit 75, suite-lib.sh), is retried once
# in a fresh rig, while the suite is within its time budget. Each case writes to
# LOG_DIR/CASE; a retried case's first logs stay in LOG_DIR/CASE.attempt1.
#
# Usage: run-e2e.sh [--guest-extra DIR] [--guest-builder SCRIPT] SUITE VMM LOG_DIR [CASE...]
#   --guest-extra DIR: the guest gets DIR's files too (build-guest.sh --extra)
#   --guest-builder SCRIPT: builds the guest instead of tools/guest/build-guest.sh,
#     taking the same --extra DIR and --print-dir (tools/guest/build-gpu-guest.sh)
# Environment: PHYLLOME_E2E_CASE_TIMEOUT (s, default 360),
#              PHYLLOME_E2E_BUDGET (s, default 1500: no retries after it).
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
failed=()
for c in "${cases[@]}"; do
  for attempt in 1 2; do
    # Each attempt starts with an empty LOG_DIR/CASE: a retry that found
    # the first attempt's serial log would see its markers at once.
    "$root/tools/rig/maybe-rig" --smp 4 --share "$logs" --timeout "$case_timeout" -- \
      "$here/$suite" "$vmm" "$guest" "$logs/$c" "$c"
    rc=$?
    case $rc in
      124) what="the rig timed out" ;;
      125) what="the rig failed" ;;
      75) what="the guest died of the rig's known fault" ;;
      *) break ;;
    esac
    [ "$attempt" = 1 ] && [ "$SECONDS" -lt "$budget" ] || break
    echo "# $c: $what (exit $rc); retrying in a fresh one (first attempt's logs: $logs/$c.attempt1)"
    [ ! -e "$logs/$c" ] || mv "$logs/$c" "$logs/$c.attempt1"
  done
  [ $rc -eq 0 ] || failed+=("$c")
done
echo "$suite: $((${#cases[@]} - ${#failed[@]})) of ${#cases[@]} cases passed${failed:+; failed: ${failed[*]}}"
[ ${#failed[@]} -eq 0 ]
