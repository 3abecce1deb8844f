#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fetches Debian's generic amd64 kernel (the package linux-image-amd64 depends
# on) into the cache and prints the directory that holds it. Shared by the
# default guest (tools/guest/build-guest.sh) and the test rig's L1
# (tools/rig/rig-run), which must boot the very same kernel.
#
# Layout of the printed directory:
#   vmlinuz   the bzImage             release   `uname -r` of that kernel
#   config    its .config             root/     the dpkg -x tree, with
#                                               root/lib/modules/<release>/
#                                               (depmod already run)
set -euo pipefail

usage() {
  cat <<EOF
usage: fetch-kernel.sh [--print-dir]
Downloads (apt-get download) and unpacks Debian's generic amd64 kernel into
\${PHYLLOME_CACHE:-\$HOME/.cache/phyllome-vmm}/kernel, once per package
version, and prints that directory.
EOF
}
die() { echo "fetch-kernel.sh: $*" >&2; exit 1; }

case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  --print-dir|"") ;;
  *) die "unknown option '$1' (see --help)" ;;
esac

CACHE="${PHYLLOME_CACHE:-$HOME/.cache/phyllome-vmm}"
KDIR="$CACHE/kernel"
mkdir -p "$CACHE"
for t in apt-cache apt-get dpkg depmod flock; do
  command -v "$t" >/dev/null || die "'$t' not found (Debian packages apt, dpkg, kmod, util-linux)"
done

# The metapackage pins the current ABI package and version, e.g.
# "Depends: linux-image-6.1.0-56-amd64 (= 6.1.192-2)". One apt-cache call:
# each costs ~0.7 s here.
want=$(apt-cache show --no-all-versions linux-image-amd64 2>/dev/null |
  sed -n 's/^Depends: \(linux-image-[0-9][^ ,]*\) (= \([^)]*\)).*/\1 \2/p' | head -1)
if [ -z "$want" ]; then
  # No apt lists (offline, cleaned image): a cached kernel is still good.
  [ -f "$KDIR/.stamp" ] || die "cannot resolve linux-image-amd64 with apt-cache (run apt-get update?)"
  want=$(cat "$KDIR/.stamp")
fi
pkg=${want% *} ver=${want#* }

exec 9>"$CACHE/kernel.lock"
flock 9
if [ "$(cat "$KDIR/.stamp" 2>/dev/null)" != "$want" ]; then
  echo "fetch-kernel.sh: fetching $pkg $ver" >&2
  tmp=$(mktemp -d "$CACHE/kernel.tmp.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download -q "$pkg=$ver" >/dev/null 2>"$tmp/apt.err") ||
    die "apt-get download $pkg=$ver failed: $(tail -1 "$tmp/apt.err")"
  dpkg -x "$tmp"/*.deb "$tmp/root"
  rm -f "$tmp"/*.deb "$tmp/apt.err"
  chmod 755 "$tmp"
  release=$(ls "$tmp/root/lib/modules")
  [ -f "$tmp/root/boot/vmlinuz-$release" ] || die "$pkg has no boot/vmlinuz-$release"
  depmod -b "$tmp/root" "$release"   # dpkg -x runs no maintainer scripts
  echo "$release" >"$tmp/release"
  ln -s "root/boot/vmlinuz-$release" "$tmp/vmlinuz"
  ln -s "root/boot/config-$release" "$tmp/config"
  echo "$want" >"$tmp/.stamp"
  rm -rf "$KDIR"
  mv "$tmp" "$KDIR"
  trap - EXIT
fi
echo "$KDIR"
