#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e.guestdev's entry: the guest's extra files are the hook in
# guestdev-guest/ plus vsock-peer (guestdev-src/, built static here: busybox
# speaks no AF_VSOCK), then run-e2e.sh runs guestdev-suite.sh.
# Usage: guestdev-e2e.sh VMM LOG_DIR EXTRA_DIR [CASE...]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vmm=$1 logs=$2 extra=$3
shift 3
rm -rf "$extra"
mkdir -p "$extra/bin"
cp -r "$here/guestdev-guest/." "$extra/"
"${CC:-cc}" -O2 -static -pthread -o "$extra/bin/vsock-peer" "$here/guestdev-src/vsock-peer.c" ||
  { echo "guestdev-e2e.sh: cannot build the guest's vsock-peer (a static libc is needed)"; exit 1; }
exec "$here/run-e2e.sh" --guest-extra "$extra" guestdev-suite.sh "$vmm" "$logs" "$@"
