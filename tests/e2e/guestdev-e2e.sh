#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e.guestdev's entry: the guest's extra files are the hook in
# guestdev-guest/ plus vsock-peer (guestdev-src/, built static here: busybox
# speaks no AF_VSOCK) and Debian's socat with its libraries, then
# run-e2e.sh runs guestdev-suite.sh.
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
# Debian's socat for the socat case, with the libraries it links (ldd):
# the guest is busybox and has none of them.
command -v socat >/dev/null || { echo "guestdev-e2e.sh: socat is not installed (tools/install-deps)"; exit 1; }
socat=$(command -v socat)
mkdir -p "$extra/usr/bin"
cp "$socat" "$extra/usr/bin/socat"
for lib in $(ldd "$socat" | grep -o '/[^ ]*'); do
  mkdir -p "$extra$(dirname "$lib")"
  cp -L "$lib" "$extra$lib"
done
exec "$here/run-e2e.sh" --guest-extra "$extra" guestdev-suite.sh "$vmm" "$logs" "$@"
