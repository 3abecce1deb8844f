# SPDX-License-Identifier: Apache-2.0
# Sourced by the payload tests' shell scripts: check NAME STATUS MESSAGE
# prints one "ok"/"not ok" line and counts it; tap_done NAME prints the
# totals and fails if any check did.
pass=0 fail=0
check() {
  if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "ok - $1"; else fail=$((fail + 1)); echo "not ok - $1: $3"; fi
}
tap_done() {
  echo "$1: $pass passed, $fail failed"
  [ $fail = 0 ]
}
