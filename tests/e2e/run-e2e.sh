#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds (or reuses) the default guest and runs one e2e suite where Linux can
# boot: directly, or in the rig with the log directory shared back.
# Usage: run-e2e.sh SUITE VMM LOG_DIR [CASE...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
suite=$1 vmm=$2 logs=$3
shift 3
rm -rf "$logs"
mkdir -p "$logs"
guest=$("$root/tools/guest/build-guest.sh" --print-dir)
exec "$root/tools/rig/maybe-rig" --smp 4 --share "$logs" --timeout 1400 -- \
  "$here/$suite" "$vmm" "$guest" "$logs" "$@"
